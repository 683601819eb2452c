package io.keywarden.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A boto3 app in a pod on the real node with nothing but the injector's environment ({@code
 * keywarden.io/aws-sdk} alone, the direct route, issue 14): the SDK's container-credentials
 * provider gets credentials for the pod's ServiceAccount through the agent's loopback relay (plain
 * HTTP, which botocore accepts on loopback; it ignores AWS_CA_BUNDLE for that call), signs with
 * SigV4, and calls the operator API over HTTPS trusting the CA the agent wrote. The image is Python
 * and boto3 from this machine (TestImages); operator and injector run on the host.
 */
@KubernetesIT(node = true)
class AwsDirectRoutePodIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The app: what an app written for AWS does, and one JSON line of what it saw. */
  private static final String BOTO3_APP =
      """
      import json, os, uuid
      import boto3
      from botocore.exceptions import ClientError

      sm = boto3.client("secretsmanager")
      out = {"env": sorted(k for k in os.environ if k.startswith("AWS_"))}
      got = sm.get_secret_value(SecretId="db")
      out["get"] = {k: got[k] for k in ("Name", "SecretString", "VersionStages", "VersionId")}
      out["stages"] = sm.describe_secret(SecretId="db")["VersionIdsToStages"]
      token = str(uuid.uuid4())
      put = sm.put_secret_value(SecretId="db", SecretString="put-by-pod", ClientRequestToken=token)
      again = sm.put_secret_value(SecretId="db", SecretString="put-by-pod", ClientRequestToken=token)
      out["put"] = {"token": token, "versionId": put["VersionId"], "again": again["VersionId"]}
      out["previous"] = sm.get_secret_value(SecretId="db", VersionStage="AWSPREVIOUS")["SecretString"]
      try:
          sm.get_secret_value(SecretId="other")
          out["denied"] = None
      except ClientError as e:
          out["denied"] = e.response["Error"]["Code"]
      print("RESULT " + json.dumps(out), flush=True)
      """;

  private HostKeywarden keywarden;

  @AfterEach
  void stop() {
    if (keywarden != null) {
      keywarden.close();
    }
  }

  @Test
  void aBoto3AppReadsAndWritesWithTheInjectorsEnvironmentAlone(
      TestCluster cluster, ClusterNode node, TestNamespace namespace) throws Exception {
    KubernetesClient admin = cluster.admin();
    String ns = namespace.name();
    TestImages.importAgent(node);
    String python = TestImages.importPythonBoto3(node);
    keywarden = new HostKeywarden(cluster, ns, node.ip());
    String apiCa = keywarden.awaitPublishedApiCa();
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
    // DescribeSecret needs get on the ManagedSecret itself.
    admin
        .rbac()
        .roles()
        .inNamespace(ns)
        .resource(
            new io.fabric8.kubernetes.api.model.rbac.RoleBuilder()
                .withNewMetadata()
                .withName("describe")
                .endMetadata()
                .addNewRule()
                .withApiGroups("keywarden.io")
                .withResources("managedsecrets")
                .withResourceNames("db")
                .withVerbs("get")
                .endRule()
                .build())
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(
            new io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder()
                .withNewMetadata()
                .withName("describe")
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("Role")
                .withName("describe")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("app")
                .withNamespace(ns)
                .endSubject()
                .build())
        .create();
    String value =
        new ValueApi(keywarden.hostApiUrl(), apiCa)
            .get(cluster.token(ns, "app", "keywarden.io", 600), ns, "db");

    Pod stored =
        admin
            .pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("boto3-app")
                    .addToLabels("keywarden.io/inject", "true")
                    .addToAnnotations("keywarden.io/aws-sdk", "true")
                    .endMetadata()
                    .withNewSpec()
                    .withServiceAccountName("app")
                    .withRestartPolicy("Never")
                    .addNewContainer()
                    .withName("app")
                    .withImage(python)
                    .withImagePullPolicy("Never")
                    .withCommand("python3", "-c", BOTO3_APP)
                    .endContainer()
                    .endSpec()
                    .build())
            .create();

    Container app = stored.getSpec().getContainers().get(0);
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar variable : app.getEnv()) {
      env.put(variable.getName(), variable.getValue());
    }
    assertThat(env)
        .containsEntry(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:2773/v1/aws/credentials")
        .containsEntry("AWS_ENDPOINT_URL_SECRETS_MANAGER", keywarden.apiUrl());
    Pod done =
        admin
            .pods()
            .inNamespace(ns)
            .withName("boto3-app")
            .waitUntilCondition(
                p ->
                    p != null
                        && ("Succeeded".equals(p.getStatus().getPhase())
                            || "Failed".equals(p.getStatus().getPhase())),
                240,
                TimeUnit.SECONDS);
    String log = admin.pods().inNamespace(ns).withName("boto3-app").inContainer("app").getLog();
    assertThat(done.getStatus().getPhase()).as(log).isEqualTo("Succeeded");
    String line =
        log.lines()
            .filter(l -> l.startsWith("RESULT "))
            .findFirst()
            .orElseThrow(() -> new AssertionError(log));
    JsonNode out = JSON.readTree(line.substring("RESULT ".length()));

    assertThat(out.get("env"))
        .extracting(JsonNode::asText)
        .containsExactlyElementsOf(
            env.keySet().stream().filter(k -> k.startsWith("AWS_")).sorted().toList());
    assertThat(out.at("/get/SecretString").asText()).isEqualTo(value);
    assertThat(out.at("/get/VersionStages").toString()).contains("AWSCURRENT");
    String v1 = out.at("/get/VersionId").asText();
    assertThat(out.get("stages").get(v1).toString()).contains("AWSCURRENT");
    assertThat(out.at("/put/versionId").asText()).isEqualTo(out.at("/put/token").asText());
    assertThat(out.at("/put/again").asText()).isEqualTo(out.at("/put/token").asText());
    assertThat(out.get("previous").asText()).isEqualTo(value);
    assertThat(out.get("denied").asText()).isEqualTo("AccessDeniedException");
    assertThat(keywarden.operator().logText())
        .contains("\"subject\":\"system:serviceaccount:" + ns + ":app\"")
        .contains("\"action\":\"GetAwsCredentials\"")
        .doesNotContain(value);
  }
}
