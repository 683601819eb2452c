package io.keywarden.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.e2e.AppLog.Line;
import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * issue 16 on the real node: {@code keywarden.io/mode: csi} through the real webhook, and a pod of
 * another namespace trying to reach a secret through its volume attributes. The operator and the
 * injector run on the host ({@link HostKeywarden}, the injector registered with the apiserver as
 * shipped), the node plugin beside kubelet ({@link CsiNodePlugin}).
 */
@KubernetesIT(node = true)
class CsiModeIT {

  private static final Duration POD_START = Duration.ofSeconds(120);
  private static final String FILES = "/var/run/secrets/keywarden";

  private HostKeywarden keywarden;
  private CsiNodePlugin plugin;
  private KubernetesClient admin;
  private String otherNamespace;

  @AfterEach
  void stop() throws Exception {
    if (otherNamespace != null) {
      admin.namespaces().withName(otherNamespace).delete();
    }
    if (plugin != null) {
      plugin.close();
    }
    if (keywarden != null) {
      keywarden.close();
    }
  }

  @Test
  void aCsiModePodGetsItsFilesFromTheNodePluginAndNoOtherNamespaceCanReachThem(
      TestCluster cluster, ClusterNode node, TestNamespace namespace) throws Exception {
    admin = cluster.admin();
    String ns = namespace.name();
    keywarden = new HostKeywarden(cluster, ns, node.ip());
    String apiCa = keywarden.awaitPublishedApiCa();
    keywarden.dbTenant(ns);
    ValueApi api = new ValueApi(keywarden.hostApiUrl(), apiCa);
    String writer = cluster.token(ns, "writer", "keywarden.io", 3600);
    keywarden.startInjector(ns);
    plugin = CsiNodePlugin.start(cluster, node, keywarden.hostApiUrl(), apiCa);

    // (1) A pod with only Keywarden annotations and keywarden.io/mode: csi, admitted by the
    // webhook.
    Pod stored = admin.pods().inNamespace(ns).resource(annotatedPod(node.busyboxImage())).create();
    assertThat(stored.getSpec().getInitContainers()).as("no agent").isEmpty();
    Volume volume =
        stored.getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals("keywarden-secrets"))
            .findFirst()
            .orElseThrow();
    assertThat(volume.getCsi().getDriver()).isEqualTo(CsiNodePlugin.DRIVER);
    System.out.println(
        "csi mode: stored volume attributes " + volume.getCsi().getVolumeAttributes());
    awaitRunning(ns, "web");
    AppLog app = new AppLog(admin, ns, "web", "app");
    String password = jsonField(api.get(writer, ns, "db"), "password");
    Line first = app.await("STATE", l -> true, Duration.ofSeconds(30));
    assertThat(first.fields()[1]).as("the app's first read").isEqualTo(password);
    assertThat(first.fields()[2]).isEqualTo("USERNAME='orders'");
    System.out.println("csi mode: the app sees the file as mode:uid:gid " + first.fields()[3]);
    assertThat(first.fields()[3]).as("mode:uid:gid of the file").startsWith("444:");

    // (2) A rotation changes the file the app reads.
    int before = app.lines("STATE").size();
    Instant requested = Instant.now();
    admin
        .resources(ManagedSecret.class)
        .inNamespace(ns)
        .withName("db")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"annotations\":{\"keywarden.io/rotate-now\":\"csi-mode\"}}}");
    Line rotated =
        app.await("STATE", before, l -> !l.fields()[1].equals(password), Duration.ofSeconds(30));
    assertThat(rotated.fields()[1]).isEqualTo(jsonField(api.get(writer, ns, "db"), "password"));
    System.out.printf(
        "csi mode: rotate-now -> the app read the new file: %d ms%n",
        Duration.between(requested, rotated.time()).toMillis());

    // (3) Namespace B: a ServiceAccount of the same name, no access to A's secret, and pods whose
    // inline volumes try to point at A. kubelet supplies the namespace and the token; the plugin
    // takes nothing else for them, so every trick fails and the pod's events say why.
    otherNamespace = "kw-csi-b-" + keywarden.run;
    admin
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(otherNamespace)
                .addToLabels("keywarden.io/test", "true")
                .endMetadata()
                .build())
        .create();
    keywarden.serviceAccount(otherNamespace, "app");
    Map<String, Map<String, String>> tricks = new LinkedHashMap<>();
    tricks.put(
        "kubelet-keys",
        Map.of(
            "secret.password", "db",
            "csi.storage.k8s.io/pod.namespace", ns,
            "csi.storage.k8s.io/serviceAccount.name", "app"));
    tricks.put("namespace-attribute", Map.of("secret.password", "db", "namespace", ns));
    tricks.put("qualified-name", Map.of("secret.password", ns + "/db"));
    tricks.put("relative-path", Map.of("secret.password", "../" + ns + "/db"));
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put(
        "kubelet-keys",
        "PermissionDenied desc = pod "
            + otherNamespace
            + "/kubelet-keys (ServiceAccount app) may not read secret db");
    expected.put(
        "namespace-attribute",
        "InvalidArgument desc = volume attribute namespace: unknown Keywarden volume attribute");
    expected.put(
        "qualified-name",
        "InvalidArgument desc = volume attribute secret.password: ManagedSecret name '"
            + ns
            + "/db' is not a DNS-1123 subdomain");
    expected.put(
        "relative-path",
        "InvalidArgument desc = volume attribute secret.password: ManagedSecret name '../"
            + ns
            + "/db' is not a DNS-1123 subdomain");
    for (Map.Entry<String, Map<String, String>> trick : tricks.entrySet()) {
      try {
        admin
            .pods()
            .inNamespace(otherNamespace)
            .resource(inlinePod(trick.getKey(), trick.getValue(), node.busyboxImage()))
            .create();
      } catch (KubernetesClientException e) {
        // The apiserver refusing the attributes would stop the trick just as well; say so.
        System.out.printf(
            "csi mode: %s refused by the apiserver: %s%n", trick.getKey(), e.getMessage());
        assertThat(e.getCode()).as(trick.getKey()).isEqualTo(422);
        expected.remove(trick.getKey());
      }
    }
    for (Map.Entry<String, String> trick : expected.entrySet()) {
      Event refused = awaitFailedMount(otherNamespace, trick.getKey());
      System.out.printf("csi mode: %s refused: %s%n", trick.getKey(), refused.getMessage());
      assertThat(refused.getMessage()).contains(trick.getValue());
    }
    for (String name : expected.keySet()) {
      Pod pod = admin.pods().inNamespace(otherNamespace).withName(name).get();
      assertThat(pod.getStatus().getPhase()).as(name).isEqualTo("Pending");
      assertThat(
              pod.getStatus().getContainerStatuses() == null
                  ? java.util.List.<io.fabric8.kubernetes.api.model.ContainerStatus>of()
                  : pod.getStatus().getContainerStatuses())
          .as(name + " never started a container")
          .allSatisfy(s -> assertThat(s.getState().getRunning()).isNull());
    }
    String currentPassword = jsonField(api.get(writer, ns, "db"), "password");
    assertThat(plugin.log()).doesNotContain(password).doesNotContain(currentPassword);

    // (4) The annotated pod goes, its volume is unmounted.
    String uid = admin.pods().inNamespace(ns).withName("web").get().getMetadata().getUid();
    admin.pods().inNamespace(ns).withName("web").withGracePeriod(0).delete();
    for (String name : expected.keySet()) {
      admin.pods().inNamespace(otherNamespace).withName(name).withGracePeriod(0).delete();
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> !Files.readString(Path.of("/proc/self/mountinfo")).contains(uid));
  }

  /**
   * Nothing but Keywarden annotations: the webhook adds the volume and the mount. The app prints
   * the password file, the env file's first line, and the file's mode and owner, five times a
   * second.
   */
  private static Pod annotatedPod(String image) {
    String script =
        "while true; do echo STATE $(cat "
            + FILES
            + "/password) $(head -n1 "
            + FILES
            + "/db.env) $(stat -L -c %a:%u:%g "
            + FILES
            + "/password); sleep 0.2; done";
    return new PodBuilder()
        .withNewMetadata()
        .withName("web")
        .addToLabels("keywarden.io/inject", "true")
        .addToAnnotations("keywarden.io/mode", "csi")
        .addToAnnotations("keywarden.io/secret.password", "db")
        .addToAnnotations("keywarden.io/key.password", "password")
        .addToAnnotations("keywarden.io/secret.db.env", "db")
        .addToAnnotations("keywarden.io/format.db.env", "env")
        .addToAnnotations("keywarden.io/file-mode", "0444")
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName("app")
        .withTerminationGracePeriodSeconds(1L)
        .addNewContainer()
        .withName("app")
        .withImage(image)
        .withCommand("sh", "-c", script)
        .endContainer()
        .endSpec()
        .build();
  }

  /** A pod that writes its inline volume itself (no webhook in namespace B). */
  private static Pod inlinePod(String name, Map<String, String> attributes, String image) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName("app")
        .withTerminationGracePeriodSeconds(1L)
        .addNewContainer()
        .withName("app")
        .withImage(image)
        .withCommand("sh", "-c", "cat /secrets/password; sleep 3600")
        .addNewVolumeMount()
        .withName("secrets")
        .withMountPath("/secrets")
        .withReadOnly(true)
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("secrets")
        .withNewCsi()
        .withDriver(CsiNodePlugin.DRIVER)
        .withReadOnly(true)
        .withVolumeAttributes(attributes)
        .endCsi()
        .endVolume()
        .endSpec()
        .build();
  }

  private Event awaitFailedMount(String ns, String pod) {
    return await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                admin.v1().events().inNamespace(ns).list().getItems().stream()
                    .filter(e -> pod.equals(e.getInvolvedObject().getName()))
                    .filter(e -> "FailedMount".equals(e.getReason()))
                    .findFirst()
                    .orElse(null),
            e -> e != null);
  }

  private void awaitRunning(String ns, String name) {
    await()
        .atMost(POD_START)
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              Pod pod = admin.pods().inNamespace(ns).withName(name).get();
              return pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
            });
  }

  private static String jsonField(String json, String field) throws Exception {
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get(field).asText();
  }
}
