package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keywarden.api.v1alpha1.RotationSchedule;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.operator.it.PostgresServer;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * AWS's JDBC driver ({@code aws-secretsmanager-jdbc}, with AWS's Java caching client) in an app of
 * its own, configured by nothing but the injector's environment, connects to a real PostgreSQL
 * whose password Keywarden's postgresql rotator then rotates: the app's next connection fails to
 * authenticate with the cached password, the driver refreshes the secret from Keywarden
 * (DescribeSecret, GetSecretValue by the AWSCURRENT version, SigV4 with container credentials) and
 * connects with the new one, with no change to the app and no restart.
 */
@KubernetesIT
class AwsJdbcDriverIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static OperatorFixture fixture;
  private static PostgresServer postgres;
  private static Path files;
  private static final List<String> VALUES = new ArrayList<>();

  @BeforeAll
  static void start(TestCluster cluster) throws Exception {
    postgres = PostgresServer.start();
    fixture =
        new OperatorFixture(cluster, Map.of("KEYWARDEN_ROTATION_MINIMUM_INTERVAL", "1m")).start();
    files = Files.createTempDirectory("aws-jdbc");
  }

  @AfterAll
  static void stop() throws Exception {
    if (fixture != null) {
      fixture.closeCheckingLogNeverContains(VALUES);
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  @Test
  void theDriversNextConnectionAfterARotationUsesTheNewPasswordWithNoAppChange(TestNamespace ns)
      throws Exception {
    String old = databaseSecret(ns, "orders", "jdbc-app");
    DescribeGrant.create(fixture.client, ns.name(), "jdbc-app", "orders");
    Path token = files.resolve("token");
    Files.writeString(token, fixture.serviceAccountToken(ns.name(), "jdbc-app", "keywarden.io"));

    try (App app = new App(environment(token), "orders")) {
      // RBAC reaches the authorizer's cache a moment after it is written.
      JsonNode before =
          await()
              .atMost(Duration.ofSeconds(60))
              .pollInterval(Duration.ofSeconds(1))
              .until(() -> app.send("connect"), a -> a.get("ok").asBoolean());
      assertThat(before.get("user").asText()).isEqualTo("orders");

      rotate(ns, "orders", "postgres");
      String rotated =
          await()
              .atMost(Duration.ofSeconds(60))
              .pollInterval(Duration.ofMillis(500))
              .until(
                  () -> fixture.awaitSynced(ns.name(), "orders-env", "password"),
                  p -> !p.equals(old));
      VALUES.add(rotated);
      assertThat(postgres.canLogIn("orders", old)).as("old password after rotation").isFalse();

      JsonNode after = app.send("connect");
      assertThat(after.get("ok").asBoolean()).as(after.toString()).isTrue();
      assertThat(after.get("user").asText()).isEqualTo("orders");
      JsonNode first = app.send("first");
      assertThat(first.get("ok").asBoolean()).as("the connection opened before: " + first).isTrue();
    }
    // The driver refreshed from Keywarden: its caching client read the new CURRENT version.
    String current = fixture.get(ns.name(), "orders").getStatus().getCurrentVersionId();
    assertThat(
            fixture
                .operator
                .logText()
                .lines()
                .filter(l -> l.startsWith("{"))
                .map(AwsJdbcDriverIT::json))
        .anySatisfy(
            audit -> {
              assertThat(audit.path("subject").asText())
                  .isEqualTo("system:serviceaccount:" + ns.name() + ":jdbc-app");
              assertThat(audit.path("action").asText()).isEqualTo("GetSecretValue");
              assertThat(audit.path("versionId").asText()).isEqualTo(current);
            });
  }

  private static JsonNode json(String line) {
    try {
      return JSON.readTree(line);
    } catch (java.io.IOException e) {
      return JSON.createObjectNode();
    }
  }

  /** The variables the injector sets with keywarden.io/aws-sdk for the Java SDK's direct route. */
  private static Map<String, String> environment(Path token) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry(
        "keywarden-api-ca",
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(fixture.apiCa().getBytes(StandardCharsets.US_ASCII))));
    Path store = files.resolve("truststore.p12");
    try (OutputStream out = Files.newOutputStream(store)) {
      trust.store(out, "changeit".toCharArray());
    }
    String api = "https://127.0.0.1:" + fixture.apiPort;
    return Map.of(
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        api,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        api + ApiServer.AWS_CREDENTIALS_PATH,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        token.toString(),
        "AWS_REGION",
        "us-east-1",
        "AWS_DEFAULT_REGION",
        "us-east-1",
        "JAVA_TOOL_OPTIONS",
        "-Djavax.net.ssl.trustStore=" + store + " -Djavax.net.ssl.trustStorePassword=changeit");
  }

  /**
   * The admin secret the rotator logs in with, and the app's {"username","password"} secret (the
   * JSON AWS's JDBC driver reads) whose CURRENT password the role really has.
   */
  private static String databaseSecret(TestNamespace ns, String role, String serviceAccount)
      throws Exception {
    fixture.createSecret(
        ns.name(),
        "pg-admin-source",
        "credentials",
        JSON.writeValueAsBytes(
            Map.of("username", PostgresServer.ADMIN, "password", postgres.adminPassword)));
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: pg-admin}
        spec:
          fromSecret: {name: pg-admin-source, key: credentials}
        """);
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: %s}
        spec:
          generate:
            passwordLength: 24
            excludePunctuation: true
            secretStringTemplate: '{"username": "%s"}'
            generateStringKeys: [password]
          syncToSecret: {name: %s-env}
          access: [{name: %s}]
        """
            .formatted(role, role, role, serviceAccount));
    fixture.awaitReady(ns.name(), "pg-admin");
    fixture.awaitReady(ns.name(), role);
    String password = fixture.awaitSynced(ns.name(), role + "-env", "password");
    VALUES.add(password);
    postgres.admin("CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'");
    return password;
  }

  private static void rotate(TestNamespace ns, String role, String database) {
    String yaml =
        """
        apiVersion: keywarden.io/v1alpha1
        kind: RotationSchedule
        metadata: {name: %s}
        spec:
          secretRef: {name: %s}
          schedule: rate(1 day)
          rotateImmediately: true
          strategy:
            type: postgresql
            postgresql: {host: 127.0.0.1, port: %d, database: %s, role: %s, adminSecretRef: pg-admin, sslMode: disable}
        """
            .formatted(role, role, postgres.port, database, role);
    fixture
        .client
        .resource(
            fixture.client.getKubernetesSerialization().unmarshal(yaml, RotationSchedule.class))
        .inNamespace(ns.name())
        .create();
  }

  /** AwsJdbcApp in a JVM of its own, with exactly this environment; one answer per command. */
  private static final class App implements AutoCloseable {

    private final Process process;
    private final Writer commands;
    private final BufferedReader answers;

    App(Map<String, String> env, String secretId) throws Exception {
      Path home = Files.createTempDirectory(files, "home");
      ProcessBuilder builder =
          new ProcessBuilder(
              Path.of(System.getProperty("java.home"), "bin", "java").toString(),
              "-cp",
              System.getProperty("java.class.path"),
              AwsJdbcApp.class.getName(),
              "jdbc-secretsmanager:postgresql://127.0.0.1:" + postgres.port + "/postgres",
              secretId);
      builder.environment().clear();
      builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
      builder.environment().put("HOME", home.toString());
      builder.environment().putAll(env);
      process = builder.redirectError(home.resolve("stderr.txt").toFile()).start();
      commands = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      answers =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    JsonNode send(String command) throws Exception {
      commands.write(command + "\n");
      commands.flush();
      for (String line = answers.readLine(); line != null; line = answers.readLine()) {
        if (line.startsWith("{")) {
          return JSON.readTree(line);
        }
      }
      throw new IllegalStateException("the app ended without answering " + command);
    }

    @Override
    public void close() throws Exception {
      commands.close();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
