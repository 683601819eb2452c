package io.keywarden.injector.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReviewBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.QuarkusProcess;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import io.keywarden.tls.CertificateIssuer;
import io.keywarden.tls.Pem;
import io.keywarden.tls.RenewalSettings;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The injector as users run it: its jar as a process, registered with the real apiserver through
 * the shipped MutatingWebhookConfiguration, pods created with the admin client. Pods never run (no
 * kubelet); what the apiserver stores is what is checked.
 *
 * <p>The registration is the shipped one with two changes: a URL instead of the Service (no Service
 * routing here), and a namespace label only this run's test namespaces carry, so that other suites
 * sharing the control plane never reach this injector. The injector's namespace doubles as the
 * operator namespace, where the ConfigMap keywarden-api-ca is published.
 */
@KubernetesIT
class InjectorWebhookIT {

  private static final String RUN =
      Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
  private static final String RUN_LABEL = "keywarden.io/injector-it";
  private static final Map<String, String> ONE_FILE =
      Map.of("keywarden.io/secret.db", "db-password");

  private static KubernetesClient admin;
  private static String injectorNamespace;
  private static String webhookName;
  private static int httpsPort;
  private static Path apiCaFile;
  private static String apiCa;
  private static QuarkusProcess injector;

  @BeforeAll
  static void startInjector(TestCluster cluster) throws Exception {
    admin = cluster.admin();
    injectorNamespace = "kw-injector-it-" + RUN;
    webhookName = "keywarden-injector-it-" + RUN;
    admin
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(injectorNamespace)
                .addToLabels("keywarden.io/test", "true")
                .endMetadata()
                .build())
        .create();
    httpsPort = QuarkusProcess.freePort();
    admin
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(registration())
        .create();

    apiCa = newCaPem();
    publishApiCa(apiCa);
    apiCaFile = Files.createTempFile("keywarden-api-ca", ".pem");
    Files.writeString(apiCaFile, newCaPem());
    injector = QuarkusProcess.of(cluster, "injector", injectorEnv(httpsPort)).start();
  }

  @AfterAll
  static void stopInjector() throws Exception {
    // The registration first: with failurePolicy Fail it would otherwise outlive its server.
    if (admin != null) {
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
    if (admin != null) {
      admin.namespaces().withName(injectorNamespace).delete();
    }
    if (apiCaFile != null) {
      Files.deleteIfExists(apiCaFile);
    }
  }

  @Test
  void injectorKeepsItsCertificateInASecretAndPatchesTheCaBundle(TestCluster cluster)
      throws Exception {
    Secret tls = tlsSecret();
    assertThat(tls.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(tls.getData()).containsKeys("tls.crt", "tls.key", "ca.crt", "ca.key");
    MutatingWebhookConfiguration registration =
        admin
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName(webhookName)
            .get();
    assertThat(registration.getWebhooks())
        .extracting(webhook -> webhook.getClientConfig().getCaBundle())
        .containsOnly(tls.getData().get("ca.crt"));
    // Trusting only that CA, with hostname verification against the IP SAN 127.0.0.1:
    assertThat(post(httpsPort, review("apps", pod("probe", ONE_FILE))).statusCode()).isEqualTo(200);

    // A second replica adopts the stored certificate instead of issuing its own.
    try (QuarkusProcess second =
        QuarkusProcess.of(cluster, "injector", injectorEnv(QuarkusProcess.freePort())).start()) {
      assertThat(tlsSecret().getMetadata().getResourceVersion())
          .isEqualTo(tls.getMetadata().getResourceVersion());
    }
  }

  /**
   * issue 13 item 6: readiness reports UP only after a synthetic pod went through the webhook's own
   * HTTPS endpoint, so the apiserver's first admission does not pay for class loading.
   */
  @Test
  void readinessWaitsForTheAdmissionPathToBeWarm() {
    assertThat(injector.logText())
        .contains("admission path warmed: a synthetic pod was admitted over HTTPS")
        .doesNotContain("admission path warmed in process only");
    assertThat(injector.http("/q/health/ready").body())
        .contains("keywarden-admission-warm")
        .doesNotContain("\"DOWN\"");
  }

  @Test
  void renewalSwapsTheServedCertificateWithoutFailingRequests(
      TestCluster cluster, TestNamespace namespace) throws Exception {
    // 6-second certificates renewed 4 seconds ahead: a renewal about every 2 seconds, at the
    // renewal point itself (the check interval is far longer).
    Map<String, String> env = injectorEnv(QuarkusProcess.freePort());
    env.put("KEYWARDEN_INJECTOR_NAMESPACE", namespace.name());
    env.put("KEYWARDEN_INJECTOR_WEBHOOK_CONFIGURATION", "none-" + RUN);
    env.put("KEYWARDEN_INJECTOR_TLS_VALIDITY", "6s");
    env.put("KEYWARDEN_INJECTOR_TLS_RENEW_BEFORE", "4s");
    env.put("KEYWARDEN_INJECTOR_TLS_CHECK_INTERVAL", "1h");
    // The other CA source, which only has to let the injector start here.
    env.put("KEYWARDEN_INJECTOR_API_CA_SOURCE", "file");
    env.put("KEYWARDEN_INJECTOR_API_CA_FILE", apiCaFile.toString());
    int port = Integer.parseInt(env.get("KEYWARDEN_INJECTOR_PORT"));
    try (QuarkusProcess renewing = QuarkusProcess.of(cluster, "injector", env).start()) {
      SSLContext ssl = trustingInjectorCa(namespace.name());
      HttpClient keepAlive =
          HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1).build();
      // The first admission loads Jackson's and the webhook's classes: seconds on a busy machine.
      assertThat(post(keepAlive, port, review("apps", pod("warm-up", ONE_FILE))).statusCode())
          .isEqualTo(200);
      X509Certificate first = servedCertificate(ssl, port);
      Set<BigInteger> served = new HashSet<>(Set.of(first.getSerialNumber()));
      int requests = 0;
      Instant end = Instant.now().plusSeconds(8);
      while (Instant.now().isBefore(end)) {
        assertThat(post(keepAlive, port, review("apps", pod("probe", ONE_FILE))).statusCode())
            .isEqualTo(200);
        requests++;
        served.add(servedCertificate(ssl, port).getSerialNumber());
      }
      assertThat(served)
          .as("serving certificates seen over %d requests", requests)
          .hasSizeGreaterThan(2);
      assertThat(renewing.logText()).contains("webhook serving certificate swapped");
    }
  }

  @Test
  void annotatedPodIsStoredWithTheAgentAsNativeSidecar(TestNamespace namespace) {
    enroll(namespace);
    Pod stored = create(namespace, pod("web", ONE_FILE));

    Container agent = stored.getSpec().getInitContainers().get(0);
    assertThat(agent.getName()).isEqualTo("keywarden-agent");
    assertThat(agent.getRestartPolicy()).isEqualTo("Always");
    assertThat(agent.getStartupProbe().getExec().getCommand())
        .containsExactly("test", "-e", "/var/run/secrets/keywarden/..data");
    assertThat(env(agent, "KEYWARDEN_FILES"))
        .isEqualTo(
            "[{\"file\":\"db\",\"secret\":\"db-password\",\"key\":null,\"format\":\"raw\",\"stage\":\"CURRENT\"}]");
    assertThat(env(agent, "KEYWARDEN_API_CA")).isEqualTo(apiCa);
    assertThat(env(agent, "KEYWARDEN_API_URL"))
        .isEqualTo("https://keywarden-operator." + injectorNamespace + ".svc:8443");
    assertThat(agent.getCommand()).containsExactly("/opt/keywarden/bin/keywarden-agent");
    assertThat(agent.getSecurityContext().getRunAsNonRoot()).isTrue();

    Volume secrets = volume(stored, "keywarden-secrets");
    assertThat(secrets.getEmptyDir().getMedium()).isEqualTo("Memory");
    assertThat(
            volume(stored, "keywarden-token")
                .getProjected()
                .getSources()
                .get(0)
                .getServiceAccountToken()
                .getAudience())
        .isEqualTo("keywarden.io");
    VolumeMount mount =
        stored.getSpec().getContainers().get(0).getVolumeMounts().stream()
            .filter(m -> m.getName().equals("keywarden-secrets"))
            .findFirst()
            .orElseThrow();
    assertThat(mount.getMountPath()).isEqualTo("/var/run/secrets/keywarden");
    assertThat(mount.getReadOnly()).isTrue();

    Pod unlabelled = pod("plain", ONE_FILE);
    unlabelled.getMetadata().getLabels().clear();
    assertThat(create(namespace, unlabelled).getSpec().getInitContainers()).isEmpty();
  }

  @Test
  void aRenewedApiCaReachesTheNextPodAndAMissingOneDeniesIt(TestNamespace namespace) {
    enroll(namespace);
    String renewed = newCaPem();
    try {
      publishApiCa(renewed);
      await()
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () ->
                  renewed.equals(
                      env(
                          dryRun(namespace, pod("renewed", ONE_FILE))
                              .getSpec()
                              .getInitContainers()
                              .get(0),
                          "KEYWARDEN_API_CA")));

      admin.configMaps().inNamespace(injectorNamespace).withName("keywarden-api-ca").delete();
      await()
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(100))
          .untilAsserted(
              () ->
                  assertThatThrownBy(() -> create(namespace, pod("without-ca", ONE_FILE)))
                      .isInstanceOfSatisfying(
                          KubernetesClientException.class,
                          e -> assertThat(e.getCode()).isEqualTo(403))
                      .hasMessageContaining(
                          "the operator API's CA is not available: ConfigMap "
                              + injectorNamespace
                              + "/keywarden-api-ca does not exist"));
    } finally {
      publishApiCa(apiCa);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () ->
                apiCa.equals(
                    env(
                        dryRun(namespace, pod("restored", ONE_FILE))
                            .getSpec()
                            .getInitContainers()
                            .get(0),
                        "KEYWARDEN_API_CA")));
  }

  /**
   * issue 13 item 5: the agent runs as the app's user when the app's user is known, so owner-only
   * files are the app's and its signal is allowed; otherwise a group the app has, or a denial that
   * says what to set. The full table is AgentIdentityTest; this shows the stored pods.
   */
  @Test
  void filesAndSignalsFollowTheAppsUser(TestNamespace namespace) {
    enroll(namespace);
    Map<String, String> ownerOnlyAndSignal =
        Map.of(
            "keywarden.io/secret.db", "db-password",
            "keywarden.io/file-mode", "0400",
            "keywarden.io/on-change", "signal:SIGHUP");
    Pod asApp = pod("as-app", ownerOnlyAndSignal);
    asApp
        .getSpec()
        .setSecurityContext(
            new PodSecurityContextBuilder().withRunAsUser(1000L).withRunAsGroup(3000L).build());
    Pod stored = create(namespace, asApp);
    Container agent = stored.getSpec().getInitContainers().get(0);
    assertThat(agent.getSecurityContext().getRunAsUser()).isEqualTo(1000L);
    assertThat(agent.getSecurityContext().getRunAsGroup()).isEqualTo(3000L);
    assertThat(stored.getSpec().getShareProcessNamespace()).isTrue();

    Pod grouped =
        pod(
            "grouped",
            Map.of("keywarden.io/secret.db", "db-password", "keywarden.io/file-mode", "0440"));
    grouped
        .getSpec()
        .setSecurityContext(new PodSecurityContextBuilder().withFsGroup(2000L).build());
    Pod storedGrouped = create(namespace, grouped);
    assertThat(
            storedGrouped.getSpec().getInitContainers().get(0).getSecurityContext().getRunAsUser())
        .isEqualTo(65532L);
    assertThat(storedGrouped.getSpec().getSecurityContext().getFsGroup()).isEqualTo(2000L);

    Pod unknownUser =
        pod(
            "unknown-user",
            Map.of("keywarden.io/secret.db", "db-password", "keywarden.io/file-mode", "0400"));
    assertThatThrownBy(() -> create(namespace, unknownUser))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403))
        .hasMessageContaining(
            "annotation keywarden.io/file-mode: file mode 0400 lets only its owner read a file")
        .hasMessageContaining("set a non-root spec.securityContext.runAsUser");
    Pod rootSignal =
        pod(
            "root-signal",
            Map.of(
                "keywarden.io/secret.db",
                "db-password",
                "keywarden.io/on-change",
                "signal:SIGHUP"));
    rootSignal
        .getSpec()
        .setSecurityContext(new PodSecurityContextBuilder().withRunAsUser(0L).build());
    assertThatThrownBy(() -> create(namespace, rootSignal))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403))
        .hasMessageContaining(
            "annotation keywarden.io/on-change: signal:SIGHUP needs the agent to run as the app's"
                + " user to signal it, but container app runs as root (uid 0)");
    assertThat(admin.pods().inNamespace(namespace.name()).withName("unknown-user").get()).isNull();
    assertThat(admin.pods().inNamespace(namespace.name()).withName("root-signal").get()).isNull();
  }

  /**
   * issue 13 item 6: the ServiceAccount admission plugin mounts the pod's API token into every
   * container, also after the webhook added the agent; the agent gets only its keywarden.io token.
   */
  @Test
  void theAgentGetsOnlyItsKeywardenToken(TestNamespace namespace) {
    enroll(namespace);
    Pod stored = create(namespace, pod("web", ONE_FILE));

    VolumeMount appApiToken =
        mountAt(
            stored.getSpec().getContainers().get(0),
            "/var/run/secrets/kubernetes.io/serviceaccount");
    assertThat(appApiToken.getName()).startsWith("kube-api-access-");
    Container agent = stored.getSpec().getInitContainers().get(0);
    assertThat(agent.getVolumeMounts())
        .extracting(VolumeMount::getName)
        .containsOnly("keywarden-secrets", "keywarden-token");
    assertThat(mountAt(agent, "/var/run/secrets/kubernetes.io/serviceaccount").getName())
        .isEqualTo("keywarden-token");
    // The same for the classic shape's containers, as the apiserver stores them.
    assertThat(
            Stream.concat(
                    stored.getSpec().getInitContainers().stream(),
                    stored.getSpec().getContainers().stream())
                .filter(c -> c.getName().startsWith("keywarden-agent"))
                .flatMap(c -> c.getVolumeMounts().stream())
                .map(VolumeMount::getName))
        .noneMatch(name -> name.startsWith("kube-api-access-"));
  }

  /**
   * keywarden.io/aws-sdk as a user meets it: the stored app container carries the AWS SDK's
   * environment for each route, a container whose own AWS credentials would win over Keywarden's is
   * denied naming container and variable, and one that keeps its own region is admitted unchanged
   * with a warning that kubectl prints.
   */
  @Test
  void awsSdkPodsGetTheSdkEnvironmentAndClashesAreReported(
      TestNamespace namespace, TestCluster cluster) throws Exception {
    enroll(namespace);
    String api = "https://keywarden-operator." + injectorNamespace + ".svc:8443";

    Pod direct = create(namespace, pod("direct", Map.of("keywarden.io/aws-sdk", "true")));

    Container app = direct.getSpec().getContainers().get(0);
    assertThat(env(app, "AWS_ENDPOINT_URL_SECRETS_MANAGER")).isEqualTo(api);
    assertThat(env(app, "AWS_CONTAINER_CREDENTIALS_FULL_URI"))
        .isEqualTo("http://127.0.0.1:2773/v1/aws/credentials");
    assertThat(env(app, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
        .isEqualTo("/var/run/secrets/keywarden-token/token");
    assertThat(env(app, "AWS_REGION")).isEqualTo("us-east-1");
    assertThat(env(app, "AWS_DEFAULT_REGION")).isEqualTo("us-east-1");
    assertThat(env(app, "AWS_CA_BUNDLE")).isEqualTo("/var/run/secrets/keywarden-aws/ca.crt");
    assertThat(env(app, "NODE_EXTRA_CA_CERTS")).isEqualTo("/var/run/secrets/keywarden-aws/ca.crt");
    assertThat(env(app, "JAVA_TOOL_OPTIONS"))
        .startsWith("-Djavax.net.ssl.trustStore=/var/run/secrets/keywarden-aws/truststore.p12");
    assertThat(mountAt(app, "/var/run/secrets/keywarden-token").getName())
        .isEqualTo("keywarden-token");
    assertThat(mountAt(app, "/var/run/secrets/keywarden-aws").getReadOnly()).isTrue();
    Container agent = direct.getSpec().getInitContainers().get(0);
    assertThat(env(agent, "KEYWARDEN_AWS_DIR")).isEqualTo("/var/run/secrets/keywarden-aws");
    assertThat(env(agent, "KEYWARDEN_FILES")).isEqualTo("[]");
    assertThat(mountAt(agent, "/var/run/secrets/keywarden-aws").getName())
        .isEqualTo("keywarden-aws");

    Pod loopback =
        create(
            namespace,
            pod(
                "loopback",
                Map.of("keywarden.io/aws-sdk", "true", "keywarden.io/aws-endpoint", "true")));
    Container loopbackApp = loopback.getSpec().getContainers().get(0);
    assertThat(env(loopbackApp, "AWS_ENDPOINT_URL_SECRETS_MANAGER"))
        .isEqualTo("http://127.0.0.1:2773");
    assertThat(env(loopbackApp, "AWS_CONTAINER_CREDENTIALS_FULL_URI")).isNull();
    assertThat(env(loopbackApp, "AWS_CA_BUNDLE")).isNull();
    assertThat(env(loopback.getSpec().getInitContainers().get(0), "KEYWARDEN_AWS_ENDPOINT_PORT"))
        .isEqualTo("2773");

    Pod withKeys = pod("keys", Map.of("keywarden.io/aws-sdk", "true"));
    withKeys
        .getSpec()
        .getContainers()
        .get(0)
        .setEnv(List.of(new EnvVar("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE", null)));
    assertThatThrownBy(() -> create(namespace, withKeys))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403))
        .hasMessageContaining(
            "annotation keywarden.io/aws-sdk: container app sets AWS_ACCESS_KEY_ID, which the AWS"
                + " SDKs use before the container credentials Keywarden sets")
        .hasMessageNotContaining("AKIAEXAMPLE");
    assertThat(admin.pods().inNamespace(namespace.name()).withName("keys").get()).isNull();
    // The same container on the loopback route keeps its own AWS identity.
    withKeys
        .getMetadata()
        .setAnnotations(
            Map.of("keywarden.io/aws-sdk", "true", "keywarden.io/aws-endpoint", "true"));
    assertThat(
            env(create(namespace, withKeys).getSpec().getContainers().get(0), "AWS_ACCESS_KEY_ID"))
        .isEqualTo("AKIAEXAMPLE");

    Pod ownRegion = pod("region", Map.of("keywarden.io/aws-sdk", "true"));
    ownRegion
        .getSpec()
        .getContainers()
        .get(0)
        .setEnv(List.of(new EnvVar("AWS_REGION", "eu-west-1", null)));
    ownRegion.getMetadata().setNamespace(namespace.name());
    Path kubectl =
        cluster
            .controlPlane()
            .binDir()
            .map(dir -> dir.resolve("kubectl"))
            .orElse(Path.of(System.getProperty("user.home"), ".cache/keywarden/bin/kubectl"));
    Process process =
        new ProcessBuilder(
                kubectl.toString(),
                "--kubeconfig",
                cluster.controlPlane().kubeconfig().toString(),
                "create",
                "-o",
                "jsonpath={.spec.containers[0].env}",
                "-f",
                "-")
            .start();
    try (var in = process.getOutputStream()) {
      in.write(
          admin.getKubernetesSerialization().asJson(ownRegion).getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as(err).isZero();
    assertThat(err)
        .contains(
            "Warning: keywarden.io/aws-sdk: container app keeps its own AWS_REGION instead of"
                + " us-east-1 (set keywarden.io/aws-region to the same region to silence this)");
    assertThat(out).contains("{\"name\":\"AWS_REGION\",\"value\":\"eu-west-1\"}");
    assertThat(out).contains("{\"name\":\"AWS_DEFAULT_REGION\",\"value\":\"us-east-1\"}");
  }

  private static VolumeMount mountAt(Container container, String path) {
    return container.getVolumeMounts().stream()
        .filter(m -> m.getMountPath().equals(path))
        .findFirst()
        .orElseThrow(() -> new AssertionError(container.getName() + " mounts nothing at " + path));
  }

  @Test
  void malformedAnnotationDeniesThePodNamingTheAnnotation(TestNamespace namespace) {
    enroll(namespace);
    Pod malformed =
        pod(
            "bad",
            Map.of("keywarden.io/secret.db", "db-password", "keywarden.io/format.db", "xml"));

    assertThatThrownBy(() -> create(namespace, malformed))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403))
        .hasMessageContaining("denied the request")
        .hasMessageContaining("annotation keywarden.io/format.db: unknown format 'xml'");
    assertThat(admin.pods().inNamespace(namespace.name()).withName("bad").get()).isNull();
  }

  @Test
  void podsInKubeSystemAreNeverTouched(TestNamespace namespace) throws Exception {
    enroll(namespace);
    String name = "keywarden-it-" + RUN;
    Pod pod = pod(name, ONE_FILE);
    try {
      Pod stored = admin.pods().inNamespace("kube-system").resource(pod).create();
      assertThat(stored.getSpec().getInitContainers()).isEmpty();
      assertThat(stored.getSpec().getVolumes())
          .extracting(Volume::getName)
          .noneMatch(v -> v.startsWith("keywarden-"));
    } finally {
      admin.pods().inNamespace("kube-system").withName(name).withGracePeriod(0).delete();
    }
    // The injector's own rule, should a registration ever send such a pod.
    AdmissionResponse response = admit(review("kube-system", pod("sent-anyway", ONE_FILE)));
    assertThat(response.getAllowed()).isTrue();
    assertThat(decode(response.getPatch())).isEqualTo("[]");
  }

  @Test
  void resubmittingAMutatedPodChangesNothing(TestNamespace namespace) throws Exception {
    enroll(namespace);
    Pod first = create(namespace, pod("first", ONE_FILE));

    Pod again =
        new PodBuilder(first)
            .withMetadata(
                new ObjectMetaBuilder()
                    .withName("second")
                    .withLabels(first.getMetadata().getLabels())
                    .withAnnotations(first.getMetadata().getAnnotations())
                    .build())
            .withStatus(null)
            .build();
    Pod second = create(namespace, again);

    assertThat(second.getSpec()).isEqualTo(first.getSpec());
    // And the patch itself is empty: what reinvocation (reinvocationPolicy IfNeeded) sees.
    Pod storedAsSent = new PodBuilder(first).withStatus(null).build();
    AdmissionResponse response = admit(review(namespace.name(), storedAsSent));
    assertThat(response.getAllowed()).isTrue();
    assertThat(decode(response.getPatch())).isEqualTo("[]");
  }

  /**
   * issue 16: keywarden.io/mode: csi stores the node plugin's inline volume and read-only mounts
   * instead of the agent; the attributes are the file annotations in the plugin's grammar. No token
   * volume: the CSIDriver's tokenRequests gives the plugin the pod's token.
   */
  @Test
  void csiModePodsAreStoredWithTheNodePluginsVolumeInsteadOfTheAgent(TestNamespace namespace)
      throws Exception {
    enroll(namespace);
    Map<String, String> annotations =
        Map.of(
            "keywarden.io/mode", "csi",
            "keywarden.io/secret.password", "db-credentials",
            "keywarden.io/key.password", "password",
            "keywarden.io/secret.db.env", "db-credentials",
            "keywarden.io/format.db.env", "env",
            "keywarden.io/file-mode", "0440",
            "keywarden.io/refresh", "90s");
    Pod stored = create(namespace, pod("orders", annotations));

    assertThat(stored.getSpec().getInitContainers()).isEmpty();
    assertThat(stored.getSpec().getContainers())
        .extracting(Container::getName)
        .containsExactly("app");
    assertThat(stored.getSpec().getShareProcessNamespace()).isNull();
    assertThat(stored.getSpec().getVolumes())
        .extracting(Volume::getName)
        .doesNotContain("keywarden-token", "keywarden-aws");
    Volume secrets = volume(stored, "keywarden-secrets");
    assertThat(secrets.getEmptyDir()).isNull();
    assertThat(secrets.getCsi().getDriver()).isEqualTo("csi.keywarden.io");
    assertThat(secrets.getCsi().getReadOnly()).isTrue();
    assertThat(secrets.getCsi().getVolumeAttributes())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "secret.password", "db-credentials",
                "key.password", "password",
                "format.password", "raw",
                "stage.password", "CURRENT",
                "secret.db.env", "db-credentials",
                "format.db.env", "env",
                "stage.db.env", "CURRENT",
                "file-mode", "0440",
                "refresh", "1m30s"));
    assertThat(stored.getSpec().getContainers().get(0).getVolumeMounts())
        .filteredOn(m -> m.getName().equals("keywarden-secrets"))
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.getMountPath()).isEqualTo("/var/run/secrets/keywarden");
              assertThat(m.getReadOnly()).isTrue();
            });

    // Idempotent: the stored pod sent again (reinvocation) is an empty patch.
    AdmissionResponse again =
        admit(review(namespace.name(), new PodBuilder(stored).withStatus(null).build()));
    assertThat(again.getAllowed()).isTrue();
    assertThat(decode(again.getPatch())).isEqualTo("[]");

    // A volume of that name the user wrote is reported, never overwritten.
    Pod own = pod("own", annotations);
    own.getSpec()
        .getVolumes()
        .add(
            new io.fabric8.kubernetes.api.model.VolumeBuilder()
                .withName("keywarden-secrets")
                .withNewEmptyDir()
                .endEmptyDir()
                .build());
    assertThatThrownBy(() -> dryRun(namespace, own))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403))
        .hasMessageContaining(
            "annotation keywarden.io/mode: the pod already has a volume 'keywarden-secrets' that is"
                + " not the csi.keywarden.io volume the annotations describe");
  }

  /** What needs a process in the pod is refused in csi mode, saying what to do instead. */
  @Test
  void csiModeRefusesWhatNeedsAProcessInThePod(TestNamespace namespace) {
    enroll(namespace);
    Map<String, String> refusals =
        Map.of(
            "keywarden.io/on-change=signal:SIGHUP",
            "annotation keywarden.io/on-change: signal:SIGHUP needs the agent in the pod to send"
                + " the signal to the app, but in csi mode (keywarden.io/mode: csi) no Keywarden"
                + " process runs in the pod",
            "keywarden.io/on-change=exec:nginx -s reload",
            "annotation keywarden.io/on-change: exec: needs the agent in the pod to run the command",
            "keywarden.io/aws-sdk=true",
            "annotation keywarden.io/aws-sdk: the AWS SDK routes need the agent in the pod",
            "keywarden.io/aws-endpoint=true",
            "annotation keywarden.io/aws-endpoint: the loopback Secrets Manager endpoint is served"
                + " by the agent in the pod",
            "keywarden.io/aws-region=eu-west-1",
            "annotation keywarden.io/aws-region: it is the region of the AWS SDK route");
    refusals.forEach(
        (annotation, message) -> {
          Map<String, String> annotations = new HashMap<>(ONE_FILE);
          annotations.put("keywarden.io/mode", "csi");
          String[] keyValue = annotation.split("=", 2);
          annotations.put(keyValue[0], keyValue[1]);
          assertThatThrownBy(() -> dryRun(namespace, pod("refused", annotations)))
              .as(annotation)
              .isInstanceOfSatisfying(
                  KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403))
              .hasMessageContaining("denied the request: " + message)
              .hasMessageContaining("or set keywarden.io/mode: sidecar");
        });
    Map<String, String> badMode = new HashMap<>(ONE_FILE);
    badMode.put("keywarden.io/mode", "node");
    assertThatThrownBy(() -> dryRun(namespace, pod("bad-mode", badMode)))
        .hasMessageContaining(
            "denied the request: annotation keywarden.io/mode: mode 'node' must be sidecar or csi");
    assertThat(admin.pods().inNamespace(namespace.name()).list().getItems()).isEmpty();
  }

  /**
   * keywarden.injector.default-mode (KEYWARDEN_INJECTOR_DEFAULT_MODE) makes csi the mode of pods
   * without the annotation, keywarden.io/mode: sidecar still gets the agent, and
   * keywarden.injector.csi-driver names the driver.
   */
  @Test
  void theInjectorsDefaultModeAndDriverAreSettings(TestCluster cluster, TestNamespace namespace)
      throws Exception {
    String label = RUN + "-csi";
    String name = webhookName + "-csi";
    int port = QuarkusProcess.freePort();
    admin
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(registration(name, port, label))
        .create();
    Map<String, String> env = injectorEnv(port);
    env.put("KEYWARDEN_INJECTOR_WEBHOOK_CONFIGURATION", name);
    env.put("KEYWARDEN_INJECTOR_DEFAULT_MODE", "csi");
    env.put("KEYWARDEN_INJECTOR_CSI_DRIVER", "secrets.example.com");
    try (QuarkusProcess csiByDefault = QuarkusProcess.of(cluster, "injector", env).start()) {
      enroll(namespace, label);

      Pod csi = create(namespace, pod("web", ONE_FILE));
      assertThat(csi.getSpec().getInitContainers()).isEmpty();
      assertThat(volume(csi, "keywarden-secrets").getCsi().getDriver())
          .isEqualTo("secrets.example.com");
      assertThat(volume(csi, "keywarden-secrets").getCsi().getVolumeAttributes())
          .containsEntry("secret.db", "db-password");

      Map<String, String> sidecarAnnotations = new HashMap<>(ONE_FILE);
      sidecarAnnotations.put("keywarden.io/mode", "sidecar");
      Pod sidecar = create(namespace, pod("legacy", sidecarAnnotations));
      assertThat(sidecar.getSpec().getInitContainers())
          .extracting(Container::getName)
          .containsExactly("keywarden-agent");
      assertThat(volume(sidecar, "keywarden-secrets").getEmptyDir().getMedium())
          .isEqualTo("Memory");

      Map<String, String> signal = new HashMap<>(ONE_FILE);
      signal.put("keywarden.io/on-change", "signal:SIGHUP");
      assertThatThrownBy(() -> dryRun(namespace, pod("signal", signal)))
          .hasMessageContaining(
              "annotation keywarden.io/on-change: signal:SIGHUP needs the agent in the pod to send"
                  + " the signal to the app, but in csi mode (the injector's default mode)");
    } finally {
      admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName(name).delete();
    }
  }

  private static MutatingWebhookConfiguration registration() throws Exception {
    return registration(webhookName, httpsPort, RUN);
  }

  /** The shipped registration, by URL, for the namespaces labelled {@code RUN_LABEL=label}. */
  private static MutatingWebhookConfiguration registration(String name, int port, String label)
      throws Exception {
    MutatingWebhookConfiguration registration;
    try (InputStream in =
        InjectorWebhookIT.class.getResourceAsStream("/kubernetes/mutating-webhook.yaml")) {
      registration =
          admin.getKubernetesSerialization().unmarshal(in, MutatingWebhookConfiguration.class);
    }
    registration.getMetadata().setName(name);
    for (MutatingWebhook webhook : registration.getWebhooks()) {
      webhook.getClientConfig().setService(null);
      webhook.getClientConfig().setUrl("https://127.0.0.1:" + port + PodMutatingWebhook.PATH);
      webhook.getNamespaceSelector().setMatchLabels(Map.of(RUN_LABEL, label));
    }
    return registration;
  }

  private static Map<String, String> injectorEnv(int port) {
    Map<String, String> env = new HashMap<>();
    env.put("KEYWARDEN_INJECTOR_NAMESPACE", injectorNamespace);
    env.put("KEYWARDEN_INJECTOR_PORT", Integer.toString(port));
    env.put("KEYWARDEN_INJECTOR_TLS_EXTRA_SANS", "127.0.0.1");
    env.put("KEYWARDEN_INJECTOR_WEBHOOK_CONFIGURATION", webhookName);
    env.put("KEYWARDEN_INJECTOR_OPERATOR_NAMESPACE", injectorNamespace);
    return env;
  }

  /**
   * Puts the namespace in reach of this run's registration and waits until the apiserver calls the
   * injector for it: the apiserver picks up registrations and caBundles asynchronously.
   */
  private static void enroll(TestNamespace namespace) {
    enroll(namespace, RUN);
  }

  /**
   * Labels the namespace for the registration of {@code label} and waits until the apiserver calls
   * that injector: a probe pod gets the files' volume (in either mode).
   */
  private static void enroll(TestNamespace namespace, String label) {
    admin
        .namespaces()
        .withName(namespace.name())
        .edit(
            ns ->
                new NamespaceBuilder(ns)
                    .editMetadata()
                    .addToLabels(RUN_LABEL, label)
                    .endMetadata()
                    .build());
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions()
        .until(
            () ->
                admin
                    .pods()
                    .inNamespace(namespace.name())
                    .resource(pod("probe", ONE_FILE))
                    .dryRun()
                    .create()
                    .getSpec()
                    .getVolumes()
                    .stream()
                    .anyMatch(v -> v.getName().equals("keywarden-secrets")));
  }

  private static String newCaPem() {
    return Pem.certificate(
        new CertificateIssuer("test", RenewalSettings.DEFAULTS).newCa(Instant.now()).certificate());
  }

  /**
   * What the operator does (ApiCertificates): the CA bundle in ConfigMap keywarden-api-ca, key
   * ca.crt.
   */
  private static void publishApiCa(String pem) {
    admin
        .configMaps()
        .inNamespace(injectorNamespace)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("keywarden-api-ca")
                .endMetadata()
                .addToData("ca.crt", pem)
                .build())
        .fieldManager("injector-it")
        .forceConflicts()
        .serverSideApply();
  }

  private static Pod dryRun(TestNamespace namespace, Pod pod) {
    return admin.pods().inNamespace(namespace.name()).resource(pod).dryRun().create();
  }

  private static Pod create(TestNamespace namespace, Pod pod) {
    return admin.pods().inNamespace(namespace.name()).resource(pod).create();
  }

  private static Pod pod(String name, Map<String, String> annotations) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("keywarden.io/inject", "true")
        .withAnnotations(new HashMap<>(annotations))
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("app")
        .withImage("example/app:1")
        .endContainer()
        .endSpec()
        .build();
  }

  private static Secret tlsSecret() {
    return admin.secrets().inNamespace(injectorNamespace).withName("keywarden-injector-tls").get();
  }

  private static AdmissionReview review(String namespace, Pod pod) {
    return new AdmissionReviewBuilder()
        .withNewRequest()
        .withUid("it-" + RUN)
        .withOperation("CREATE")
        .withNamespace(namespace)
        .withNewKind("", "Pod", "v1")
        .withNewResource("", "pods", "v1")
        .withObject(pod)
        .endRequest()
        .build();
  }

  private static AdmissionResponse admit(AdmissionReview review) throws Exception {
    HttpResponse<String> response = post(httpsPort, review);
    assertThat(response.statusCode()).isEqualTo(200);
    return admin
        .getKubernetesSerialization()
        .unmarshal(response.body(), AdmissionReview.class)
        .getResponse();
  }

  private static HttpResponse<String> post(int port, AdmissionReview review) throws Exception {
    return post(https(injectorNamespace), port, review);
  }

  private static HttpResponse<String> post(HttpClient http, int port, AdmissionReview review)
      throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + PodMutatingWebhook.PATH))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    admin.getKubernetesSerialization().asJson(review)))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** HTTPS trusting nothing but the CA in the Secret of the injector in {@code namespace}. */
  private static HttpClient https(String namespace) throws Exception {
    return HttpClient.newBuilder()
        .sslContext(trustingInjectorCa(namespace))
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  private static SSLContext trustingInjectorCa(String namespace) throws Exception {
    Secret secret = admin.secrets().inNamespace(namespace).withName("keywarden-injector-tls").get();
    String caPem =
        new String(
            Base64.getDecoder().decode(secret.getData().get("ca.crt")), StandardCharsets.UTF_8);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", Pem.parseCertificate(caPem));
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, factory.getTrustManagers(), null);
    return ssl;
  }

  /** The certificate a new TLS connection is served with. */
  private static X509Certificate servedCertificate(SSLContext ssl, int port) throws Exception {
    try (SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }

  private static Volume volume(Pod pod, String name) {
    return pod.getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private static String env(Container container, String name) {
    return container.getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .findFirst()
        .map(EnvVar::getValue)
        .orElse(null);
  }
}
