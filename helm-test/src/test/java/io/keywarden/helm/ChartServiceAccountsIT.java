package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.RotationSchedule;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.QuarkusProcess;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator and the injector run as real processes with exactly what the installed chart gives
 * their pods: the ServiceAccount's token (so the chart's RBAC and nothing else), the Deployment's
 * environment and the operator's ConfigMap. Every feature that calls the apiserver is then
 * exercised; a missing permission shows as a feature that never completes or a 403 in the log.
 */
@KubernetesIT
class ChartServiceAccountsIT {

  private static final String RUN =
      Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
  private static final String SYSTEM = "kw-helm-sa-" + RUN;
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();

  private static KubernetesClient admin;
  private static Tools tools;
  private static Release release;
  private static Path workDir;
  private static QuarkusProcess operator;
  private static int apiPort;

  @BeforeAll
  static void installAndStartOperator(TestCluster cluster) throws Exception {
    admin = cluster.admin();
    tools = new Tools(cluster);
    cluster.installCrds();
    admin
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(SYSTEM)
                .addToLabels("keywarden.io/test", "true")
                .endMetadata()
                .build())
        .create();
    // A second local key that becomes the default: the ConfigMap must reach the operator.
    release =
        Release.install(
            tools,
            SYSTEM,
            "--set",
            "kms.keys.second.provider=local",
            "--set",
            "kms.defaultKeyId=second");
    workDir = Files.createTempDirectory("keywarden-helm-sa");

    Map<String, String> env = podEnvironment(deployment("keywarden-operator"));
    Container container = container("keywarden-operator");
    // The properties file where the pod would have it: the mounted ConfigMap.
    String location = env.get("QUARKUS_CONFIG_LOCATIONS");
    VolumeMount configMount =
        container.getVolumeMounts().stream()
            .filter(m -> m.getName().equals("config"))
            .findFirst()
            .orElseThrow();
    assertThat(location).isEqualTo("file:" + configMount.getMountPath() + "/keywarden.properties");
    Path properties = workDir.resolve("keywarden.properties");
    Files.writeString(
        properties,
        admin
            .configMaps()
            .inNamespace(SYSTEM)
            .withName("keywarden-operator-config")
            .get()
            .getData()
            .get("keywarden.properties"));
    env.put("QUARKUS_CONFIG_LOCATIONS", "file:" + properties);
    // Free ports instead of the pod's, as other runs may share this machine.
    apiPort = QuarkusProcess.freePort();
    env.put("KEYWARDEN_API_PORT", Integer.toString(apiPort));
    env.put("KUBECONFIG", kubeconfigOf(cluster, "keywarden-operator").toString());
    operator = QuarkusProcess.of(cluster, "operator", env).start();
  }

  @AfterAll
  static void stop(TestCluster cluster) throws Exception {
    if (operator != null) {
      operator.stop();
    }
    if (release != null) {
      release.close();
    }
    if (admin != null) {
      admin.namespaces().withName(SYSTEM).delete();
    }
    if (workDir != null) {
      try (var files = Files.list(workDir)) {
        for (Path file : files.toList()) {
          Files.delete(file);
        }
      }
      Files.delete(workDir);
    }
  }

  @Test
  void operatorServesEveryFeatureUnderTheChartsRbac(TestNamespace tenant) throws Exception {
    String ns = tenant.name();
    // The chart turns leader election on: the operator must be able to take its Lease.
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              var lease = admin.leases().inNamespace(SYSTEM).withName("keywarden-operator").get();
              return lease != null && lease.getSpec().getHolderIdentity() != null;
            });
    // The examples users start with: generate, and import with spec.access.
    tools
        .kubectl(
            "apply",
            "-n",
            ns,
            "-f",
            Tools.ROOT.resolve("examples/managedsecret-generated.yaml").toString(),
            "-f",
            Tools.ROOT.resolve("examples/managedsecret-imported.yaml").toString())
        .orFail();
    create(
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: synced}
        spec:
          generate: {passwordLength: 24}
          syncToSecret: {name: synced-plain}
        """,
        ManagedSecret.class);

    ManagedSecret generated = awaitReady(ns, "db-credentials");
    awaitReady(ns, "api-key");
    ManagedSecret synced = awaitReady(ns, "synced");
    // The default key alias came from the chart's ConfigMap.
    assertThat(generated.getStatus().getVersions())
        .allSatisfy(v -> assertThat(v.getKmsKeyId()).isEqualTo("second"));
    // spec.access became a Role and RoleBinding (escalation check passed), the copy was written.
    assertThat(admin.rbac().roles().inNamespace(ns).withName("keywarden-api-key-get").get())
        .isNotNull();
    assertThat(admin.rbac().roleBindings().inNamespace(ns).withName("keywarden-api-key-get").get())
        .isNotNull();
    String firstCopy = awaitSynced(ns, "synced-plain");

    // The API: TokenReview and SubjectAccessReview with the operator's identity.
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName("payments")
                .endMetadata()
                .build())
        .create();
    String callerToken = token(ns, "payments", "keywarden.io");
    HttpResponse<String> value =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(300))
            .until(
                () -> api("/v1/namespaces/" + ns + "/managedsecrets/api-key/value", callerToken),
                r -> r.statusCode() == 200);
    assertThat(JSON.readTree(value.body()).get("SecretString").asText())
        .isEqualTo("replace-me-with-the-real-key");
    assertThat(
            api("/v1/namespaces/" + ns + "/managedsecrets/db-credentials/value", callerToken)
                .statusCode())
        .isEqualTo(403);

    // Manual rotation (annotation patch, status updates) reaches the synced copy (update).
    admin
        .resources(ManagedSecret.class)
        .inNamespace(ns)
        .withName("synced")
        .edit(
            s -> {
              s.getMetadata()
                  .setAnnotations(
                      new HashMap<>(
                          Optional.ofNullable(s.getMetadata().getAnnotations()).orElse(Map.of())));
              s.getMetadata().getAnnotations().put("keywarden.io/rotate-now", "helm-test");
              return s;
            });
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(300))
        .until(() -> !firstCopy.equals(awaitSynced(ns, "synced-plain")));

    // Re-wrapping under a new master key version patches the master keys Secret.
    int keyVersion = generated.getStatus().getVersions().get(0).getKeyVersion();
    create(
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: RotationSchedule
        metadata: {name: rekey}
        spec:
          secretRef: {name: db-credentials}
          schedule: rate(1 day)
          rotateImmediately: true
          strategy: {type: rotateEncryptionKey}
        """,
        RotationSchedule.class);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(300))
        .until(
            () ->
                get(ns, "db-credentials").getStatus().getVersions().stream()
                    .allMatch(v -> v.getKeyVersion() > keyVersion));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              RotationSchedule schedule =
                  admin.resources(RotationSchedule.class).inNamespace(ns).withName("rekey").get();
              return schedule.getStatus() != null
                  && schedule.getStatus().getLastRotationTime() != null;
            });

    // Dropping syncToSecret removes the copy (delete); deleting a ManagedSecret takes its
    // ciphertext out of the live set (kept under keywarden.io/deleted-uid for the recovery window,
    // which needs patch on Secrets of the operator namespace).
    admin
        .resources(ManagedSecret.class)
        .inNamespace(ns)
        .withName("synced")
        .edit(
            s -> {
              s.getSpec().setSyncToSecret(null);
              return s;
            });
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> admin.secrets().inNamespace(ns).withName("synced-plain").get() == null);
    String uid = synced.getMetadata().getUid();
    assertThat(ciphertext(uid)).isNotEmpty();
    admin.resources(ManagedSecret.class).inNamespace(ns).withName("synced").delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> get(ns, "synced") == null && ciphertext(uid).isEmpty());

    // Events were recorded in the tenant's namespace.
    // Events are sent asynchronously, a moment after what they report.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(admin.v1().events().inNamespace(ns).list().getItems())
                    .extracting(event -> event.getReason())
                    .contains("VersionCreated"));
    assertThat(operator.logText()).as("operator log").doesNotContainIgnoringCase("forbidden");
  }

  @Test
  void injectorKeepsItsCertificateAndCaBundleUnderTheChartsRbac(TestCluster cluster)
      throws Exception {
    Map<String, String> env = podEnvironment(deployment("keywarden-injector"));
    // The operator published its CA; the injector watches that ConfigMap by name under its Role
    // and is ready only once it has read it.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                Optional.ofNullable(
                    admin.configMaps().inNamespace(SYSTEM).withName("keywarden-api-ca").get()),
            Optional::isPresent);
    assertThat(env)
        .containsEntry("KEYWARDEN_INJECTOR_API_CA_SOURCE", "config-map")
        .containsEntry("KEYWARDEN_INJECTOR_API_CA_CONFIG_MAP", "keywarden-api-ca");
    env.put("KEYWARDEN_INJECTOR_PORT", Integer.toString(QuarkusProcess.freePort()));
    env.put("KUBECONFIG", kubeconfigOf(cluster, "keywarden-injector").toString());

    try (QuarkusProcess injector = QuarkusProcess.of(cluster, "injector", env).start()) {
      Secret tls = admin.secrets().inNamespace(SYSTEM).withName("keywarden-injector-tls").get();
      assertThat(tls).isNotNull();
      assertThat(
              admin
                  .admissionRegistration()
                  .v1()
                  .mutatingWebhookConfigurations()
                  .withName("keywarden-injector")
                  .get()
                  .getWebhooks())
          .extracting(webhook -> webhook.getClientConfig().getCaBundle())
          .containsOnly(tls.getData().get("ca.crt"));
      assertThat(injector.logText()).as("injector log").doesNotContainIgnoringCase("forbidden");
    }
  }

  /**
   * The container's environment as the kubelet would set it (literal values and the pod's
   * namespace).
   */
  private static Map<String, String> podEnvironment(Deployment deployment) {
    Map<String, String> env = new HashMap<>();
    for (EnvVar variable :
        deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()) {
      if (variable.getValue() != null) {
        env.put(variable.getName(), variable.getValue());
      } else if (variable.getValueFrom() != null
          && variable.getValueFrom().getFieldRef() != null
          && "metadata.namespace".equals(variable.getValueFrom().getFieldRef().getFieldPath())) {
        env.put(variable.getName(), SYSTEM);
      } else {
        throw new AssertionError(
            "environment variable "
                + variable.getName()
                + " has a source this test cannot resolve");
      }
    }
    return env;
  }

  private static Deployment deployment(String name) {
    return admin.apps().deployments().inNamespace(SYSTEM).withName(name).get();
  }

  private static Container container(String deployment) {
    return deployment(deployment).getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  /**
   * A kubeconfig that authenticates as the ServiceAccount, as its pod would with the mounted token.
   */
  private static Path kubeconfigOf(TestCluster cluster, String serviceAccount) throws Exception {
    String token =
        admin
            .serviceAccounts()
            .inNamespace(SYSTEM)
            .withName(serviceAccount)
            .tokenRequest(
                new TokenRequestBuilder()
                    .withNewSpec()
                    .withExpirationSeconds(3600L)
                    .endSpec()
                    .build())
            .getStatus()
            .getToken();
    ObjectNode kubeconfig =
        (ObjectNode) YAML.readTree(cluster.controlPlane().kubeconfig().toFile());
    String user = serviceAccount;
    ArrayNode users = kubeconfig.putArray("users");
    users.addObject().put("name", user).putObject("user").put("token", token);
    for (JsonNode context : kubeconfig.path("contexts")) {
      ((ObjectNode) context.path("context")).put("user", user);
    }
    Path file = workDir.resolve(serviceAccount + ".kubeconfig");
    YAML.writeValue(file.toFile(), kubeconfig);
    return file;
  }

  private static String token(String namespace, String serviceAccount, String audience) {
    return admin
        .serviceAccounts()
        .inNamespace(namespace)
        .withName(serviceAccount)
        .tokenRequest(
            new TokenRequestBuilder()
                .withNewSpec()
                .withAudiences(audience)
                .withExpirationSeconds(600L)
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }

  private static HttpResponse<String> api(String path, String token) throws Exception {
    String ca =
        admin
            .configMaps()
            .inNamespace(SYSTEM)
            .withName("keywarden-api-ca")
            .get()
            .getData()
            .get("ca.crt");
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry(
        "keywarden-api",
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(ca.getBytes(StandardCharsets.UTF_8))));
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, factory.getTrustManagers(), null);
    HttpClient http =
        HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
    return http.send(
        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + apiPort + path))
            .header("Authorization", "Bearer " + token)
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> void create(
      String namespace, String yaml, Class<T> type) {
    admin
        .resources(type)
        .inNamespace(namespace)
        .resource(admin.getKubernetesSerialization().unmarshal(yaml, type))
        .create();
  }

  private static ManagedSecret get(String namespace, String name) {
    return admin.resources(ManagedSecret.class).inNamespace(namespace).withName(name).get();
  }

  private static ManagedSecret awaitReady(String namespace, String name) {
    return await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> get(namespace, name),
            s ->
                s != null
                    && s.getStatus() != null
                    && s.getStatus().getConditions().stream()
                        .anyMatch(
                            c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus())));
  }

  /** The synced copy's value key, once the Secret exists. */
  private static String awaitSynced(String namespace, String name) {
    Secret secret =
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () -> admin.secrets().inNamespace(namespace).withName(name).get(),
                s -> s != null && s.getData() != null);
    return secret.getData().get("value");
  }

  private static List<Secret> ciphertext(String uid) {
    return admin
        .secrets()
        .inNamespace(SYSTEM)
        .withLabel("keywarden.io/secret-uid", uid)
        .list()
        .getItems();
  }
}
