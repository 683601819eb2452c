package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.keywarden.operator.access.Caller;
import io.keywarden.operator.access.aws.MintedCredentials;
import io.keywarden.operator.access.aws.SessionTokens;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.testcluster.AwsClients;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The real AWS clients, installed from the registries, against the real control plane with nothing
 * but environment variables: boto3 (and AWS's caching library), the AWS CLI, the AWS SDK for
 * JavaScript v3 and the AWS SDK for Java v2. Each gets container credentials for its
 * ServiceAccount, signs with SigV4, and reads, describes, lists, batch-reads, puts (idempotently)
 * and reads AWSPREVIOUS; what it may not do, or does with bad credentials, surfaces as the SDK's
 * own exception with AWS's error code.
 */
@KubernetesIT
class AwsClientsIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static OperatorFixture fixture;
  private static CredentialsRelay relay;
  private static Path files;
  private static final List<String> VALUES = new ArrayList<>();
  private static final List<String> OTHER_NAMESPACES = new ArrayList<>();

  /** One real client: how to run steps with it, and what it calls an AWS service error. */
  enum Client {
    BOTO3("ClientError"),
    AWS_CLI("ClientError"),
    JAVASCRIPT("SecretsManagerServiceException"),
    JAVA("SecretsManagerException");

    final String serviceError;

    Client(String serviceError) {
      this.serviceError = serviceError;
    }
  }

  @BeforeAll
  static void start(TestCluster cluster) throws Exception {
    fixture = new OperatorFixture(cluster, Map.of()).start();
    files = Files.createTempDirectory("aws-clients");
    Files.writeString(files.resolve("ca.crt"), fixture.apiCa());
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry(
        "keywarden-api-ca",
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(fixture.apiCa().getBytes(StandardCharsets.US_ASCII))));
    try (OutputStream out = Files.newOutputStream(files.resolve("truststore.p12"))) {
      trust.store(out, "changeit".toCharArray());
    }
    relay = new CredentialsRelay(api(), fixture.apiCa());
  }

  @AfterAll
  static void stop() {
    if (relay != null) {
      relay.close();
    }
    if (fixture != null) {
      fixture.closeCheckingLogNeverContains(VALUES);
    }
  }

  @ParameterizedTest
  @EnumSource(Client.class)
  void readsDescribesListsBatchesPutsAndReadsPreviousWithTheEnvironmentAlone(
      Client client, TestNamespace ns) throws Exception {
    String v1 = secret(ns.name(), "db", "[{name: app, actions: [get, update]}]");
    String apiKey = secret(ns.name(), "api-key", "[{name: app}]");
    secret(ns.name(), "guarded", "[{name: someone-else}]");
    String other = otherTenant(ns);
    DescribeGrant.create(fixture.client, ns.name(), "app", "db", "api-key");
    String v2 = "value-" + UUID.randomUUID();
    VALUES.add(v2);
    String requestToken = UUID.randomUUID().toString();
    Path token = tokenFile(ns.name(), "app", "keywarden.io");
    awaitReadable(ns.name(), "db", token);

    ArrayNode steps = JSON.createArrayNode();
    step(steps, "get", "GetSecretValue", "SecretId", "db");
    step(steps, "describe", "DescribeSecret", "SecretId", "db");
    step(steps, "versions", "ListSecretVersionIds", "SecretId", "db");
    step(steps, "batch", "BatchGetSecretValue", "SecretIdList", List.of("db", "api-key"));
    ObjectNode put = step(steps, "put", "PutSecretValue", "SecretId", "db");
    ((ObjectNode) put.get("params"))
        .put("SecretString", v2)
        .put("ClientRequestToken", requestToken);
    steps.add(put.deepCopy().put("name", "putAgain"));
    step(steps, "current", "GetSecretValue", "SecretId", "db");
    ObjectNode previous = step(steps, "previous", "GetSecretValue", "SecretId", "db");
    ((ObjectNode) previous.get("params")).put("VersionStage", "AWSPREVIOUS");
    step(steps, "otherNamespace", "GetSecretValue", "SecretId", other + "/db");
    step(steps, "noRbac", "GetSecretValue", "SecretId", "guarded");
    if (client == Client.BOTO3) {
      step(steps, "cached", "cache.get_secret_string", "secret_id", "db");
    }

    Map<String, JsonNode> out = run(client, steps, containerEnv(client, token));

    assertThat(result(out, "get").get("SecretString").asText()).isEqualTo(v1);
    assertThat(result(out, "get").get("VersionStages").toString()).contains("AWSCURRENT");
    String v1Id = result(out, "get").get("VersionId").asText();
    assertThat(result(out, "describe").get("VersionIdsToStages").get(v1Id).toString())
        .contains("AWSCURRENT");
    assertThat(result(out, "versions").get("Versions").toString()).contains(v1Id);
    assertThat(result(out, "batch").get("SecretValues").toString()).contains(v1).contains(apiKey);
    assertThat(result(out, "put").get("VersionId").asText()).isEqualTo(requestToken);
    assertThat(result(out, "putAgain").get("VersionId").asText()).isEqualTo(requestToken);
    assertThat(result(out, "current").get("SecretString").asText()).isEqualTo(v2);
    assertThat(result(out, "previous").get("SecretString").asText()).isEqualTo(v1);
    assertThat(result(out, "previous").get("VersionId").asText()).isEqualTo(v1Id);
    assertServiceError(client, out.get("otherNamespace"), "AccessDeniedException");
    assertServiceError(client, out.get("noRbac"), "AccessDeniedException");
    if (client == Client.BOTO3) {
      assertThat(result(out, "cached").get("SecretString").asText()).isEqualTo(v2);
    }
    assertThat(fixture.operator.logText())
        .contains("\"subject\":\"system:serviceaccount:" + ns.name() + ":app\"");
  }

  @ParameterizedTest
  @EnumSource(
      value = Client.class,
      names = {"BOTO3", "JAVASCRIPT", "JAVA"})
  void badCredentialsSurfaceAsTheSdksOwnErrors(Client client, TestNamespace ns) throws Exception {
    secret(ns.name(), "db", "[{name: app}, {name: other}]");
    Path token = tokenFile(ns.name(), "app", "keywarden.io");
    awaitReadable(ns.name(), "db", token);
    SigV4Client aws = new SigV4Client(api(), fixture.apiCa());
    SigV4Client.Credentials mine = aws.credentials(Files.readString(token));
    SigV4Client.Credentials theirs =
        aws.credentials(fixture.serviceAccountToken(ns.name(), "other", "keywarden.io"));
    Caller app =
        new Caller(
            "system:serviceaccount:" + ns.name() + ":app",
            "",
            List.of(
                "system:serviceaccounts",
                "system:serviceaccounts:" + ns.name(),
                "system:authenticated"),
            Map.of());
    SessionTokens.Credentials expired =
        MintedCredentials.issuedAt(
            fixture.client,
            fixture.namespace,
            app,
            Instant.now().minus(Duration.ofHours(2)),
            Duration.ofHours(1));
    ArrayNode get = JSON.createArrayNode();
    step(get, "get", "GetSecretValue", "SecretId", "db");

    JsonNode wrongAudience =
        run(client, get, containerEnv(client, tokenFile(ns.name(), "app", "vault"))).get("get");
    JsonNode expiredAnswer =
        run(
                client,
                get,
                staticEnv(expired.accessKeyId(), expired.secretAccessKey(), expired.sessionToken()))
            .get("get");
    String wrongSecret =
        (mine.secretAccessKey().charAt(0) == 'A' ? "B" : "A") + mine.secretAccessKey().substring(1);
    JsonNode tampered =
        run(client, get, staticEnv(mine.accessKeyId(), wrongSecret, mine.sessionToken()))
            .get("get");
    JsonNode borrowed =
        run(
                client,
                get,
                staticEnv(mine.accessKeyId(), mine.secretAccessKey(), theirs.sessionToken()))
            .get("get");
    JsonNode good =
        run(client, get, staticEnv(mine.accessKeyId(), mine.secretAccessKey(), mine.sessionToken()))
            .get("get");

    assertThat(good.get("ok").asBoolean()).as(good.toString()).isTrue();
    assertThat(wrongAudience.get("ok").asBoolean()).as(wrongAudience.toString()).isFalse();
    assertThat(wrongAudience.get("exception").asText())
        .as(wrongAudience.toString())
        .isEqualTo(
            switch (client) {
              case BOTO3 -> "CredentialRetrievalError";
              case JAVA -> "SdkClientException";
              // After the refused HTTPS call the default chain falls back to the legacy ECS
              // provider, which supports http only, and its TypeError is what the app sees.
              default -> "TypeError";
            });
    assertServiceError(client, expiredAnswer, "ExpiredTokenException");
    assertServiceError(client, tampered, "InvalidSignatureException");
    assertServiceError(client, borrowed, "UnrecognizedClientException");
  }

  private static void assertServiceError(Client client, JsonNode answer, String code) {
    assertThat(answer.get("ok").asBoolean()).as(answer.toString()).isFalse();
    assertThat(answer.get("code").asText()).as(answer.toString()).isEqualTo(code);
    assertThat(answer.get("exception").asText())
        .as(answer.toString())
        .isEqualTo(client.serviceError);
  }

  private static JsonNode result(Map<String, JsonNode> out, String step) {
    JsonNode answer = out.get(step);
    assertThat(answer).as("step " + step + " in " + out).isNotNull();
    assertThat(answer.get("ok").asBoolean()).as(step + ": " + answer).isTrue();
    return answer.get("result");
  }

  private static ObjectNode step(
      ArrayNode steps, String name, String op, String param, Object value) {
    ObjectNode step = steps.addObject();
    step.put("name", name).put("op", op);
    step.set("params", JSON.createObjectNode().set(param, JSON.valueToTree(value)));
    return step;
  }

  private static String api() {
    return "https://127.0.0.1:" + fixture.apiPort;
  }

  /** The variables the injector sets for the container-credentials route. */
  private static Map<String, String> containerEnv(Client client, Path token) {
    Map<String, String> env = new HashMap<>(common());
    env.put("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token.toString());
    // botocore fetches credentials with its own CA bundle, so it needs a loopback http relay.
    env.put(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        client == Client.BOTO3 || client == Client.AWS_CLI
            ? relay.uri()
            : api() + ApiServer.AWS_CREDENTIALS_PATH);
    return env;
  }

  private static Map<String, String> staticEnv(String id, String secret, String sessionToken) {
    Map<String, String> env = new HashMap<>(common());
    env.put("AWS_ACCESS_KEY_ID", id);
    env.put("AWS_SECRET_ACCESS_KEY", secret);
    env.put("AWS_SESSION_TOKEN", sessionToken);
    return env;
  }

  private static Map<String, String> common() {
    return Map.of(
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        api(),
        "AWS_REGION",
        "us-east-1",
        "AWS_DEFAULT_REGION",
        "us-east-1",
        "AWS_CA_BUNDLE",
        files.resolve("ca.crt").toString(),
        "NODE_EXTRA_CA_CERTS",
        files.resolve("ca.crt").toString(),
        "JAVA_TOOL_OPTIONS",
        "-Djavax.net.ssl.trustStore="
            + files.resolve("truststore.p12")
            + " -Djavax.net.ssl.trustStorePassword=changeit");
  }

  /** Runs the steps with the client in a process of its own; one answer per step name. */
  private static Map<String, JsonNode> run(Client client, ArrayNode steps, Map<String, String> env)
      throws Exception {
    Path home = Files.createTempDirectory(files, "home");
    Path scripts = RepositoryRoot.find().resolve("operator/src/test/resources/aws-clients");
    Map<String, JsonNode> out = new HashMap<>();
    switch (client) {
      case AWS_CLI -> {
        for (JsonNode step : steps) {
          String command = step.get("op").asText().replaceAll("(?<!^)(?=[A-Z])", "-").toLowerCase();
          AwsClients.Run run =
              AwsClients.run(
                  List.of(
                      AwsClients.awsCli().toString(),
                      "secretsmanager",
                      command,
                      "--cli-input-json",
                      step.get("params").toString()),
                  env,
                  home);
          ObjectNode answer = JSON.createObjectNode().put("name", step.get("name").asText());
          if (run.exitCode() == 0) {
            answer.put("ok", true).set("result", JSON.readTree(run.stdout()));
          } else {
            var m =
                java.util.regex.Pattern.compile("An error occurred \\(([A-Za-z]+)\\)")
                    .matcher(run.stderr());
            answer.put("ok", false).put("exception", "ClientError").put("message", run.stderr());
            answer.put("code", m.find() ? m.group(1) : null);
          }
          out.put(step.get("name").asText(), answer);
        }
        return out;
      }
      case BOTO3 ->
          collect(
              AwsClients.run(
                  List.of(
                      AwsClients.python().toString(),
                      scripts.resolve("boto3_steps.py").toString(),
                      steps.toString()),
                  env,
                  home),
              out);
      case JAVASCRIPT -> {
        // ES modules resolve packages next to the script, so the script goes beside node_modules.
        Path script = AwsClients.nodeModules().getParent().resolve("js_steps.mjs");
        Files.copy(
            scripts.resolve("js_steps.mjs"),
            script,
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        collect(
            AwsClients.run(List.of("node", script.toString(), steps.toString()), env, home), out);
      }
      case JAVA ->
          collect(
              AwsClients.run(
                  List.of(
                      Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                      "-cp",
                      System.getProperty("java.class.path"),
                      AwsJavaSdkSteps.class.getName(),
                      steps.toString()),
                  env,
                  home),
              out);
    }
    return out;
  }

  private static void collect(AwsClients.Run run, Map<String, JsonNode> out) throws Exception {
    for (String line : run.stdout().split("\n")) {
      if (line.startsWith("{")) {
        JsonNode answer = JSON.readTree(line);
        out.put(answer.get("name").asText(), answer);
      }
    }
    assertThat(out).as("no answers; exit " + run.exitCode() + ": " + run.stderr()).isNotEmpty();
  }

  private static Path tokenFile(String ns, String serviceAccount, String audience)
      throws Exception {
    Path file = Files.createTempFile(files, "token", "");
    Files.writeString(file, fixture.serviceAccountToken(ns, serviceAccount, audience));
    return file;
  }

  /** RBAC objects reach the authorizer's cache a moment after they are written. */
  private static void awaitReadable(String ns, String name, Path token) throws Exception {
    SigV4Client aws = new SigV4Client(api(), fixture.apiCa());
    SigV4Client.Credentials credentials = aws.credentials(Files.readString(token));
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(300))
        .until(
            () ->
                aws.send(
                        "GET",
                        "/v1/namespaces/" + ns + "/managedsecrets/" + name + "/value",
                        null,
                        credentials)
                    .statusCode(),
            s -> s == 200);
  }

  private static String secret(String ns, String name, String access) {
    String value = "value-" + UUID.randomUUID();
    VALUES.add(value);
    fixture.createImported(ns, name, value, "access: " + access);
    return value;
  }

  /**
   * Deletes the other tenants' namespaces while this class's operator still runs: their
   * ManagedSecrets' finalizers need it, and a namespace left behind would show its secrets as
   * CiphertextMissing to every later operator on the shared control plane.
   */
  @AfterEach
  void deleteOtherTenants() {
    for (String other : OTHER_NAMESPACES) {
      fixture.client.namespaces().withName(other).delete();
    }
    for (String other : OTHER_NAMESPACES) {
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> fixture.client.namespaces().withName(other).get() == null);
    }
    OTHER_NAMESPACES.clear();
  }

  /** Another tenant's namespace with its own db secret, which app may not read. */
  private static String otherTenant(TestNamespace ns) {
    String other = ns.name() + "-other";
    OTHER_NAMESPACES.add(other);
    fixture
        .client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(other).endMetadata().build())
        .create();
    secret(other, "db", "[{name: app}]");
    return other;
  }
}
