package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.testcluster.AwsClients;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.QuarkusProcess;
import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pods get AWS credentials for their ServiceAccount from the container-credentials endpoint, and
 * requests signed with them (SigV4) are that ServiceAccount, authorized by RBAC as with a bearer
 * token. Signed here by the AWS SDK for Java's signer and by botocore's.
 */
@KubernetesIT
class AwsCredentialsIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static OperatorFixture fixture;
  private static SigV4Client aws;
  private static final List<String> VALUES = new ArrayList<>();

  @BeforeAll
  static void start(TestCluster cluster) throws Exception {
    fixture = new OperatorFixture(cluster, Map.of()).start();
    aws = new SigV4Client("https://127.0.0.1:" + fixture.apiPort, fixture.apiCa());
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.closeCheckingLogNeverContains(VALUES);
    }
  }

  @Test
  void theTokenFileContentBuysCredentialsThatReadWhatTheServiceAccountMayRead(TestNamespace ns)
      throws Exception {
    String value = secret(ns, "db-password", "[{name: app}]");
    String token = fixture.serviceAccountToken(ns.name(), "app", "keywarden.io");
    Instant asked = Instant.now();

    SigV4Client.Credentials credentials = aws.credentials(token);

    assertThat(credentials.accessKeyId()).matches("ASIA[A-Z2-7]{16}");
    // The test token lives 600 s; the credentials never outlive it.
    assertThat(credentials.expiration())
        .isAfter(asked.plusSeconds(500))
        .isBeforeOrEqualTo(asked.plusSeconds(601));
    HttpResponse<String> read =
        awaitSigned("GET", path(ns, "db-password") + "/value", credentials, 200);
    assertThat(JSON.readTree(read.body()).get("SecretString").asText()).isEqualTo(value);
    Secret keys =
        fixture
            .client
            .secrets()
            .inNamespace(fixture.namespace)
            .withName("keywarden-aws-session-keys")
            .get();
    assertThat(keys.getData()).containsKey("key.1");
    assertThat(fixture.operator.logText())
        .contains("\"subject\":\"system:serviceaccount:" + ns.name() + ":app\"")
        .doesNotContain(credentials.secretAccessKey())
        .doesNotContain(credentials.sessionToken());
  }

  @Test
  void aBearerPrefixIsAcceptedAndOtherAudiencesAreNot(TestNamespace ns) throws Exception {
    String good = fixture.serviceAccountToken(ns.name(), "app", "keywarden.io");
    String otherAudience = fixture.serviceAccountToken(ns.name(), "app", "vault");

    assertThat(aws.credentialsResponse("Bearer " + good).statusCode()).isEqualTo(200);
    HttpResponse<String> refused = aws.credentialsResponse(otherAudience);
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(refused.body()).get("__type").asText())
        .isEqualTo("UnrecognizedClientException");
    assertThat(aws.credentialsResponse(null).statusCode()).isEqualTo(401);
  }

  @Test
  void rbacDecidesForSignedRequestsAsForBearerTokens(TestNamespace ns) throws Exception {
    secret(ns, "guarded", "[{name: someone-else}]");
    SigV4Client.Credentials credentials =
        aws.credentials(fixture.serviceAccountToken(ns.name(), "app", "keywarden.io"));

    HttpResponse<String> denied =
        aws.send("GET", path(ns, "guarded") + "/value", null, credentials);

    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(JSON.readTree(denied.body()).get("__type").asText())
        .isEqualTo("AccessDeniedException");
  }

  @Test
  void tamperedReplayedOrBorrowedSignaturesAreRefusedAsAwsRefusesThem(TestNamespace ns)
      throws Exception {
    secret(ns, "db-password", "[{name: app}, {name: other}]");
    SigV4Client.Credentials mine =
        aws.credentials(fixture.serviceAccountToken(ns.name(), "app", "keywarden.io"));
    SigV4Client.Credentials theirs =
        aws.credentials(fixture.serviceAccountToken(ns.name(), "other", "keywarden.io"));
    String value = path(ns, "db-password") + "/value";
    awaitSigned("GET", value, mine, 200);

    String signature =
        aws.send("GET", value, null, mine, Instant.now(), Map.of())
            .request()
            .headers()
            .firstValue("Authorization")
            .orElseThrow();
    char last = signature.charAt(signature.length() - 1);
    String tampered = signature.substring(0, signature.length() - 1) + (last == '0' ? '1' : '0');
    assertError(
        aws.send("GET", value, null, mine, Instant.now(), Map.of("Authorization", tampered)),
        400,
        "InvalidSignatureException");
    assertError(
        aws.send("GET", value, null, mine, Instant.now().minus(Duration.ofMinutes(6)), Map.of()),
        400,
        "InvalidSignatureException");
    assertError(
        aws.send(
            "GET",
            value,
            null,
            mine,
            Instant.now(),
            Map.of("X-Amz-Security-Token", theirs.sessionToken())),
        400,
        "UnrecognizedClientException");
  }

  @Test
  void anotherReplicaVerifiesCredentialsThisOneIssued(TestNamespace ns) throws Exception {
    String value = secret(ns, "db-password", "[{name: app}]");
    SigV4Client.Credentials credentials =
        aws.credentials(fixture.serviceAccountToken(ns.name(), "app", "keywarden.io"));
    int port = QuarkusProcess.freePort();
    QuarkusProcess replica = fixture.replica(Map.of("KEYWARDEN_API_PORT", Integer.toString(port)));
    try {
      replica.start();
      SigV4Client other = new SigV4Client("https://127.0.0.1:" + port, fixture.apiCa());

      HttpResponse<String> read =
          await()
              .atMost(Duration.ofSeconds(30))
              .pollInterval(Duration.ofMillis(300))
              .until(
                  () -> other.send("GET", path(ns, "db-password") + "/value", null, credentials),
                  r -> r.statusCode() == 200);

      assertThat(JSON.readTree(read.body()).get("SecretString").asText()).isEqualTo(value);
    } finally {
      replica.stop();
    }
  }

  @Test
  void botocoreSignsWithCredentialsFromTheEndpointThroughTheEnvironmentAlone(TestNamespace ns)
      throws Exception {
    String value = secret(ns, "db-password", "[{name: app}]");
    Path home = Files.createTempDirectory("aws-home");
    Path tokenFile = home.resolve("token");
    Files.writeString(tokenFile, fixture.serviceAccountToken(ns.name(), "app", "keywarden.io"));
    Path ca = home.resolve("ca.crt");
    Files.writeString(ca, fixture.apiCa());
    Path script =
        RepositoryRoot.find().resolve("operator/src/test/resources/aws-clients/botocore_sign.py");
    String url = "https://127.0.0.1:" + fixture.apiPort + path(ns, "db-password") + "/value";
    awaitSigned(
        "GET",
        path(ns, "db-password") + "/value",
        aws.credentials(Files.readString(tokenFile)),
        200);

    AwsClients.Run run;
    // botocore fetches credentials with certifi's CAs only: over a loopback relay (see the class).
    try (CredentialsRelay relay =
        new CredentialsRelay("https://127.0.0.1:" + fixture.apiPort, fixture.apiCa())) {
      run =
          AwsClients.run(
              List.of(AwsClients.python().toString(), script.toString(), "GET", url),
              Map.of(
                  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                  relay.uri(),
                  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                  tokenFile.toString(),
                  "AWS_CA_BUNDLE",
                  ca.toString(),
                  "AWS_REGION",
                  "us-east-1",
                  "AWS_DEFAULT_REGION",
                  "us-east-1"),
              home);
    }

    assertThat(run.exitCode()).as(run.stderr()).isZero();
    JsonNode answer = JSON.readTree(run.stdout());
    assertThat(answer.get("status").asInt()).as(answer.toString()).isEqualTo(200);
    assertThat(JSON.readTree(answer.get("body").asText()).get("SecretString").asText())
        .isEqualTo(value);
  }

  /**
   * A signed long-poll is judged as of its arrival, as AWS judges a request: signed 290 s before it
   * is sent (a client clock running behind, within the 5-minute window) and woken 20 s later, past
   * the window, it answers the new value, not "Signature expired".
   */
  @Test
  void aSignedLongPollWokenPastTheSignaturesWindowAnswersTheNewValue(TestNamespace ns)
      throws Exception {
    secret(ns, "polled", "[{name: app}, {name: writer, actions: [get, update]}]");
    SigV4Client.Credentials credentials =
        aws.credentials(fixture.serviceAccountToken(ns.name(), "app", "keywarden.io"));
    String value = path(ns, "polled") + "/value";
    String version =
        JSON.readTree(awaitSigned("GET", value, credentials, 200).body()).get("VersionId").asText();

    CompletableFuture<HttpResponse<String>> poll =
        aws.sendAsync(
            "GET",
            value + "?waitForChange=" + version + "&timeoutSeconds=120",
            credentials,
            Instant.now().minusSeconds(290));
    Thread.sleep(20_000);
    assertThat(poll).as("accepted on arrival, and waiting").isNotDone();
    String second = "second-" + UUID.randomUUID();
    VALUES.add(second);
    ApiClient api = new ApiClient("https://127.0.0.1:" + fixture.apiPort, fixture.apiCa());
    HttpResponse<String> put =
        api.put(
            value,
            fixture.serviceAccountToken(ns.name(), "writer", "keywarden.io"),
            JSON.writeValueAsString(Map.of("SecretString", second)));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

    HttpResponse<String> answer = poll.get(30, TimeUnit.SECONDS);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    assertThat(JSON.readTree(answer.body()).get("SecretString").asText()).isEqualTo(second);
  }

  private static void assertError(HttpResponse<String> response, int status, String type)
      throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(JSON.readTree(response.body()).get("__type").asText()).isEqualTo(type);
  }

  /** RBAC objects reach the authorizer's cache a moment after they are written. */
  private static HttpResponse<String> awaitSigned(
      String method, String path, SigV4Client.Credentials credentials, int status) {
    return await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> aws.send(method, path, null, credentials), r -> r.statusCode() == status);
  }

  private static String secret(TestNamespace ns, String name, String access) {
    String value = "value-" + UUID.randomUUID();
    VALUES.add(value);
    fixture.createImported(ns.name(), name, value, "access: " + access);
    return value;
  }

  private static String path(TestNamespace ns, String name) {
    return "/v1/namespaces/" + ns.name() + "/managedsecrets/" + name;
  }
}
