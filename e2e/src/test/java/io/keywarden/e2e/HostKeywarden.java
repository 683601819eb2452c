package io.keywarden.e2e;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.testcluster.QuarkusProcess;
import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TestCluster;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The operator and the injector as processes on the host, from their build output, the injector
 * registered with the apiserver by URL for one run's namespaces only (the shipped registration,
 * otherwise unchanged). What the end-to-end tests share, whether the agent then runs as a host
 * process ({@link InjectionEndToEndIT}) or in pods on the node ({@link RealPodsIT}).
 */
final class HostKeywarden implements AutoCloseable {

  static final String RUN_LABEL = "keywarden.io/e2e";

  final String run = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
  private final TestCluster cluster;
  private final KubernetesClient admin;
  private final String operatorNamespace;
  private final int apiPort;
  private final String apiUrl;
  private final Map<String, String> operatorEnv = new HashMap<>();
  private String webhookName;
  private QuarkusProcess operator;
  private QuarkusProcess injector;

  /**
   * Starts the operator for {@code appNamespace} only (other suites on the same control plane run
   * operators of their own).
   *
   * @param apiHost the address agents reach the API at: 127.0.0.1 for host processes, the node's
   *     bridge gateway for pods; the generated API certificate carries it
   */
  HostKeywarden(TestCluster cluster, String appNamespace, String apiHost) {
    this.cluster = cluster;
    this.admin = cluster.admin();
    this.operatorNamespace = "kw-e2e-operator-" + run;
    admin
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(operatorNamespace)
                .addToLabels("keywarden.io/test", "true")
                .endMetadata()
                .build())
        .create();
    cluster.installCrds();
    apiPort = QuarkusProcess.freePort();
    operatorEnv.put("POD_NAMESPACE", operatorNamespace);
    operatorEnv.put("KEYWARDEN_API_PORT", Integer.toString(apiPort));
    operatorEnv.put("KEYWARDEN_API_EXTRA_SANS", apiHost);
    operatorEnv.put("QUARKUS_OPERATOR_SDK_NAMESPACES", appNamespace);
    // A reviewed token is normally reused for up to 60 s; 1 s lets a test see a revocation at once.
    operatorEnv.put("KEYWARDEN_API_TOKEN_CACHE_TTL", "1s");
    this.apiUrl = "https://" + apiHost + ":" + apiPort;
    startOperator();
  }

  /** The URL agents are given (the injector's api-url). */
  String apiUrl() {
    return apiUrl;
  }

  /** The URL for the test itself, on the host. */
  String hostApiUrl() {
    return "https://127.0.0.1:" + apiPort;
  }

  String operatorNamespace() {
    return operatorNamespace;
  }

  QuarkusProcess operator() {
    return operator;
  }

  void startOperator() {
    operator = QuarkusProcess.of(cluster, "operator", operatorEnv).start();
  }

  void stopOperator() {
    operator.stop();
  }

  /** The CA the operator published for its API (the ConfigMap keywarden-api-ca). */
  String awaitPublishedApiCa() {
    ConfigMap published =
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () ->
                    admin
                        .configMaps()
                        .inNamespace(operatorNamespace)
                        .withName("keywarden-api-ca")
                        .get(),
                c -> c != null);
    return published.getData().get("ca.crt");
  }

  /**
   * Starts the injector, registers it, and enrolls {@code namespace} in this run's registration.
   */
  void startInjector(String namespace) throws Exception {
    webhookName = "keywarden-injector-e2e-" + run;
    int port = QuarkusProcess.freePort();
    admin
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(registration(port))
        .create();
    Map<String, String> env = new HashMap<>();
    env.put("KEYWARDEN_INJECTOR_NAMESPACE", operatorNamespace);
    env.put("KEYWARDEN_INJECTOR_OPERATOR_NAMESPACE", operatorNamespace);
    env.put("KEYWARDEN_INJECTOR_PORT", Integer.toString(port));
    env.put("KEYWARDEN_INJECTOR_TLS_EXTRA_SANS", "127.0.0.1");
    env.put("KEYWARDEN_INJECTOR_WEBHOOK_CONFIGURATION", webhookName);
    // The address agents use; in a cluster the default, the operator's Service, is right.
    env.put("KEYWARDEN_INJECTOR_API_URL", apiUrl);
    injector = QuarkusProcess.of(cluster, "injector", env).start();
    enroll(namespace);
  }

  /** The shipped registration, by URL instead of the Service, and only for this run. */
  private MutatingWebhookConfiguration registration(int port) throws Exception {
    Path shipped =
        RepositoryRoot.find()
            .resolve("injector/src/main/resources/kubernetes/mutating-webhook.yaml");
    MutatingWebhookConfiguration registration;
    try (InputStream in = Files.newInputStream(shipped)) {
      registration =
          admin.getKubernetesSerialization().unmarshal(in, MutatingWebhookConfiguration.class);
    }
    registration.getMetadata().setName(webhookName);
    for (MutatingWebhook webhook : registration.getWebhooks()) {
      webhook.getClientConfig().setService(null);
      webhook.getClientConfig().setUrl("https://127.0.0.1:" + port + "/mutate-pods");
      webhook.getNamespaceSelector().setMatchLabels(Map.of(RUN_LABEL, run));
    }
    return registration;
  }

  /** Labels the namespace for this run's registration and waits until the apiserver calls it. */
  private void enroll(String ns) {
    admin
        .namespaces()
        .withName(ns)
        .edit(
            n ->
                new NamespaceBuilder(n)
                    .editMetadata()
                    .addToLabels(RUN_LABEL, run)
                    .endMetadata()
                    .build());
    Pod probe =
        new PodBuilder()
            .withNewMetadata()
            .withName("probe")
            .addToLabels("keywarden.io/inject", "true")
            .addToAnnotations("keywarden.io/secret.db", "db")
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName("app")
            .withImage("example/app:1")
            .endContainer()
            .endSpec()
            .build();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions()
        .until(
            () ->
                !admin
                    .pods()
                    .inNamespace(ns)
                    .resource(probe)
                    .dryRun()
                    .create()
                    .getSpec()
                    .getInitContainers()
                    .isEmpty());
  }

  void serviceAccount(String ns, String name) {
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }

  /**
   * The tenant the node tests share: ServiceAccounts {@code app} (may get) and {@code writer} (may
   * get and update), and the ManagedSecret {@code db}, a JSON value {@code {"username": "orders",
   * "password": <24 generated letters and digits>}}, Ready.
   */
  void dbTenant(String ns) {
    serviceAccount(ns, "app");
    serviceAccount(ns, "writer");
    managedSecret(
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: db}
        spec:
          generate:
            passwordLength: 24
            excludePunctuation: true
            secretStringTemplate: '{"username": "orders"}'
            generateStringKeys: [password]
          access:
            - {name: app, actions: [get]}
            - {name: writer, actions: [get, update]}
        """);
  }

  /** Creates a ManagedSecret from YAML and waits until it is Ready. */
  void managedSecret(String ns, String yaml) {
    ManagedSecret secret = admin.getKubernetesSerialization().unmarshal(yaml, ManagedSecret.class);
    admin.resources(ManagedSecret.class).inNamespace(ns).resource(secret).create();
    String name = secret.getMetadata().getName();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              ManagedSecret current =
                  admin.resources(ManagedSecret.class).inNamespace(ns).withName(name).get();
              return current.getStatus() != null
                  && current.getStatus().getConditions().stream()
                      .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
            });
  }

  @Override
  public void close() {
    if (webhookName != null) {
      admin
          .admissionRegistration()
          .v1()
          .mutatingWebhookConfigurations()
          .withName(webhookName)
          .delete();
    }
    if (injector != null) {
      injector.stop();
    }
    if (operator != null) {
      operator.stop();
    }
    admin.namespaces().withName(operatorNamespace).delete();
  }
}
