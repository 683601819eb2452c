package io.keywarden.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.QuarkusProcess;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The loopback AWS endpoint from end to end ({@code keywarden.io/aws-sdk} with {@code
 * keywarden.io/aws-endpoint}): operator and injector run from their build output, a pod is created
 * through the apiserver, its stored agent container runs as a local process exactly as {@link
 * InjectedAgent} describes, and an "app" runs beside it with nothing but the stored app container's
 * environment plus its own (made-up) AWS credentials, as a pod that also uses real AWS has: boto3
 * from PyPI calls Secrets Manager unchanged, and a client written for AWS's Secrets Manager Agent
 * uses the agent paths. The operator's {@code POST /} is the real one: the agent forwards with the
 * pod's bound token, which the operator checks by TokenReview and SubjectAccessReview.
 *
 * <p>boto3 comes from a virtual environment, {@code KEYWARDEN_AWS_PYTHON} or {@code
 * ~/.cache/keywarden/aws-clients/bin/python} ({@code python3 -m venv ~/.cache/keywarden/aws-clients
 * && ~/.cache/keywarden/aws-clients/bin/pip install boto3}).
 */
@KubernetesIT
class AwsSidecarEndToEndIT {

  private static final String RUN =
      Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The app: every call it makes, and what it saw, as one JSON object on stdout. */
  private static final String BOTO3_APP =
      """
      import json, time, uuid
      import boto3
      from botocore.exceptions import ClientError

      sm = boto3.client("secretsmanager")
      out = {}
      got = sm.get_secret_value(SecretId="db")
      out["get"] = {k: got[k] for k in ("Name", "SecretString", "VersionStages", "ARN", "VersionId")}
      out["getByArn"] = sm.get_secret_value(SecretId=got["ARN"])["SecretString"]
      described = sm.describe_secret(SecretId="db")
      out["versionIdsToStages"] = described["VersionIdsToStages"]
      token = str(uuid.uuid4())
      put = sm.put_secret_value(SecretId="db", SecretString="put-by-boto3", ClientRequestToken=token)
      again = sm.put_secret_value(SecretId="db", SecretString="put-by-boto3", ClientRequestToken=token)
      out["put"] = {"token": token, "versionId": put["VersionId"], "again": again["VersionId"]}
      out["current"] = sm.get_secret_value(SecretId="db")["SecretString"]
      out["previous"] = sm.get_secret_value(SecretId="db", VersionStage="AWSPREVIOUS")["SecretString"]
      versions = sm.list_secret_version_ids(SecretId="db")
      out["versions"] = sorted(v["VersionId"] for v in versions["Versions"])
      try:
          sm.get_secret_value(SecretId="other")
          out["denied"] = None
      except ClientError as e:
          out["denied"] = {"code": e.response["Error"]["Code"], "type": type(e).__name__}
      try:
          sm.get_secret_value(SecretId="db", VersionId="0" * 32)
          out["missing"] = None
      except ClientError as e:
          out["missing"] = {"code": e.response["Error"]["Code"], "type": type(e).__name__}
      times = []
      for _ in range(100):
          start = time.perf_counter()
          sm.get_secret_value(SecretId="db")
          times.append(time.perf_counter() - start)
      times.sort()
      out["millis"] = {"p50": times[49] * 1000, "p99": times[98] * 1000}
      print(json.dumps(out))
      """;

  private HostKeywarden keywarden;
  private InjectedAgent agent;

  @AfterEach
  void stopEverything() throws Exception {
    if (agent != null) {
      agent.close();
    }
    if (keywarden != null) {
      keywarden.close();
    }
  }

  @Test
  void boto3AndAwsAgentClientsReadKeywardenThroughThePodsLoopbackEndpoint(
      TestCluster cluster, TestNamespace namespace) throws Exception {
    String ns = namespace.name();
    keywarden = new HostKeywarden(cluster, ns, "127.0.0.1");
    keywarden.awaitPublishedApiCa();
    keywarden.startInjector(ns);
    keywarden.serviceAccount(ns, "app");
    keywarden.managedSecret(
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: db}
        spec:
          generate: {passwordLength: 24, excludePunctuation: true}
          access:
            - {name: app, actions: [get, update]}
        """);
    keywarden.managedSecret(
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: other}
        spec:
          generate: {passwordLength: 24}
        """);
    // Not 2773: the host is shared, and the port is part of what the annotation controls.
    int port = QuarkusProcess.freePort();

    Pod stored =
        cluster
            .admin()
            .pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("orders")
                    .addToLabels("keywarden.io/inject", "true")
                    .withAnnotations(
                        Map.of(
                            "keywarden.io/aws-sdk", "true",
                            "keywarden.io/aws-endpoint", "true",
                            "keywarden.io/aws-endpoint-port", Integer.toString(port)))
                    .endMetadata()
                    .withNewSpec()
                    .withServiceAccountName("app")
                    .addNewContainer()
                    .withName("app")
                    .withImage("example/orders:1")
                    // Its own AWS identity for real AWS services, which the SDK signs with.
                    .addNewEnv()
                    .withName("AWS_ACCESS_KEY_ID")
                    .withValue("AKIAIOSFODNN7EXAMPLE")
                    .endEnv()
                    .addNewEnv()
                    .withName("AWS_SECRET_ACCESS_KEY")
                    .withValue("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
                    .endEnv()
                    .endContainer()
                    .endSpec()
                    .build())
            .create();

    agent =
        new InjectedAgent(
            cluster,
            stored,
            "keywarden-agent",
            // Absolute: AWS_TOKEN is a file:// URL, which takes no relative path.
            Path.of("target", "e2e-aws-" + RUN).toAbsolutePath());
    agent.start();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(agent::startupProbePasses);
    assertThat(agent.logText()).contains("AWS endpoint listening on http://127.0.0.1:" + port);

    // The app: the stored app container's environment, paths under its mounts as on the node.
    Container app = stored.getSpec().getContainers().get(0);
    Map<String, String> appEnv = new LinkedHashMap<>();
    for (EnvVar variable : app.getEnv()) {
      appEnv.put(variable.getName(), agent.translate(variable.getValue()));
    }
    assertThat(appEnv)
        .containsEntry("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:" + port)
        .containsEntry("AWS_REGION", "us-east-1")
        .containsEntry("AWS_DEFAULT_REGION", "us-east-1")
        .doesNotContainKey("AWS_CONTAINER_CREDENTIALS_FULL_URI");

    JsonNode seen = JSON.readTree(runBoto3(appEnv, agent.log().getParent()));
    System.out.printf("boto3 through the sidecar: %s%n", seen);

    String password = seen.at("/get/SecretString").asText();
    assertThat(password).hasSize(24);
    assertThat(seen.at("/get/Name").asText()).isEqualTo("db");
    assertThat(seen.at("/get/VersionStages").toString()).isEqualTo("[\"AWSCURRENT\"]");
    assertThat(seen.at("/get/ARN").asText())
        .startsWith("arn:aws:secretsmanager:us-east-1:000000000000:secret:" + ns + "/db-");
    assertThat(seen.at("/getByArn").asText()).isEqualTo(password);
    String firstVersion = seen.at("/get/VersionId").asText();
    assertThat(seen.at("/versionIdsToStages/" + firstVersion).toString())
        .isEqualTo("[\"AWSCURRENT\"]");
    String token = seen.at("/put/token").asText();
    assertThat(seen.at("/put/versionId").asText()).isEqualTo(token);
    assertThat(seen.at("/put/again").asText()).as("the idempotent repeat").isEqualTo(token);
    assertThat(seen.at("/current").asText()).isEqualTo("put-by-boto3");
    assertThat(seen.at("/previous").asText()).isEqualTo(password);
    assertThat(seen.at("/versions").toString()).contains(firstVersion, token);
    // botocore models no AccessDeniedException for Secrets Manager: a ClientError with that code,
    // as against AWS; ResourceNotFoundException is modelled and raised as its own class.
    assertThat(seen.at("/denied/code").asText()).isEqualTo("AccessDeniedException");
    assertThat(seen.at("/denied/type").asText()).isEqualTo("ClientError");
    assertThat(seen.at("/missing/code").asText()).isEqualTo("ResourceNotFoundException");
    assertThat(seen.at("/missing/type").asText()).isEqualTo("ResourceNotFoundException");

    // A client written for AWS's Secrets Manager Agent: the SSRF token from AWS_TOKEN's file.
    String ssrfToken =
        Files.readString(Path.of(appEnv.get("AWS_TOKEN").substring("file://".length()))).strip();
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + port;
    HttpResponse<String> byQuery =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(base + "/secretsmanager/get?secretId=db&versionStage=AWSPREVIOUS"))
                .header("X-Aws-Parameters-Secrets-Token", ssrfToken)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(byQuery.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(byQuery.body()).get("SecretString").asText()).isEqualTo(password);
    HttpResponse<String> byPath =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/v1/" + ns + "/db"))
                .header("X-Vault-Token", ssrfToken)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(byPath.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(byPath.body()).get("SecretString").asText()).isEqualTo("put-by-boto3");
    HttpResponse<String> deniedByRbac =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/v1/other"))
                .header("X-Aws-Parameters-Secrets-Token", ssrfToken)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(deniedByRbac.statusCode()).isIn(400, 403);
    assertThat(deniedByRbac.body()).contains("AccessDeniedException");

    // A forged GET, as a server-side request forgery can make one: refused before the API.
    HttpResponse<String> forged =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/v1/db")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(forged.statusCode()).isEqualTo(403);
    HttpResponse<String> ping =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/ping")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(ping.body()).isEqualTo("healthy");
    assertThat(agent.logText()).doesNotContain(ssrfToken).doesNotContain(password);
  }

  /** Runs the boto3 app with only the pod's environment (no host AWS configuration). */
  private static String runBoto3(Map<String, String> appEnv, Path dir) throws Exception {
    Path python =
        Path.of(
            System.getenv()
                .getOrDefault(
                    "KEYWARDEN_AWS_PYTHON",
                    System.getProperty("user.home") + "/.cache/keywarden/aws-clients/bin/python"));
    assertThat(python)
        .as("a Python with boto3; see the class comment for how to create it")
        .isExecutable();
    Path script = Files.writeString(dir.resolve("app.py"), BOTO3_APP);
    ProcessBuilder builder = new ProcessBuilder(python.toString(), script.toString());
    Map<String, String> env = builder.environment();
    String path = env.get("PATH");
    env.clear();
    env.put("PATH", path);
    env.put("HOME", dir.toString());
    env.put("AWS_CONFIG_FILE", dir.resolve("no-aws-config").toString());
    env.put("AWS_SHARED_CREDENTIALS_FILE", dir.resolve("no-aws-credentials").toString());
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    env.putAll(appEnv);
    Path stderr = dir.resolve("app.stderr");
    Process process = builder.redirectError(stderr.toFile()).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int exit = process.waitFor();
    assertThat(exit).as(Files.readString(stderr)).isZero();
    return out;
  }
}
