package io.keywarden.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.storage.CSINode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.keywarden.e2e.AppLog.Line;
import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The CSI node plugin with the real kubelet: the plugin runs as a host process (root, the host's
 * mount namespace, as kubelet's own mounts are; a DaemonSet pod would need a privileged container
 * with Bidirectional mount propagation), registers itself through kubelet's plugin watcher, and
 * pods on the node mount inline {@code csi.keywarden.io} volumes. The operator runs on the host
 * ({@link HostKeywarden}); the plugin reaches it on 127.0.0.1 with each pod's own token.
 */
@KubernetesIT(node = true)
class CsiNodeIT {

  private static final String DRIVER = "csi.keywarden.io";
  private static final Duration POD_START = Duration.ofSeconds(120);

  private HostKeywarden keywarden;
  private Process plugin;
  private KubernetesClient admin;
  private HasMetadata csiDriver;
  private Path state;

  @AfterEach
  void stop() throws Exception {
    if (plugin != null) {
      plugin.destroy();
      plugin.waitFor(20, TimeUnit.SECONDS);
      plugin.destroyForcibly();
    }
    if (csiDriver != null) {
      admin.resource(csiDriver).delete();
    }
    if (keywarden != null) {
      keywarden.close();
    }
  }

  @Test
  void podsReadTheirSecretFilesFromTheNodePluginAndAPodWithoutAccessIsToldWhy(
      TestCluster cluster, ClusterNode node, TestNamespace namespace) throws Exception {
    admin = cluster.admin();
    String ns = namespace.name();
    keywarden = new HostKeywarden(cluster, ns, node.ip());
    String apiCa = keywarden.awaitPublishedApiCa();
    keywarden.serviceAccount(ns, "app");
    keywarden.serviceAccount(ns, "stranger");
    keywarden.serviceAccount(ns, "writer");
    keywarden.managedSecret(
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
    ValueApi api = new ValueApi(keywarden.hostApiUrl(), apiCa);
    String writer = cluster.token(ns, "writer", "keywarden.io", 3600);

    // The node's kubelet runs with --root-dir <state>/node/kubelet, beside containerd's socket.
    Path kubeletRoot = node.containerdSocket().getParent().resolve("kubelet");
    state = Files.createTempDirectory("keywarden-csi-");
    Path ca = Files.writeString(state.resolve("api-ca.pem"), apiCa);
    try (InputStream yaml =
        new FileInputStream(RepositoryRoot.find().resolve("csi/deploy/csidriver.yaml").toFile())) {
      csiDriver =
          admin
              .resource(admin.getKubernetesSerialization().unmarshal(yaml, HasMetadata.class))
              .createOr(NonDeletingOperation::update);
    }
    plugin = startPlugin(node, kubeletRoot, keywarden.hostApiUrl(), ca);

    // (1) kubelet registered the driver through its plugin watcher.
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              assertThat(plugin.isAlive()).as("plugin running; its log:%n%s", pluginLog()).isTrue();
              CSINode csiNode = admin.storage().v1().csiNodes().withName(node.name()).get();
              return csiNode != null
                  && csiNode.getSpec().getDrivers() != null
                  && csiNode.getSpec().getDrivers().stream()
                      .anyMatch(d -> d.getName().equals(DRIVER));
            });

    // (2) A pod with an inline volume reads its files at start, then the rotated value.
    admin.pods().inNamespace(ns).resource(pod("web", "app", node.busyboxImage())).create();
    awaitRunning(ns, "web");
    AppLog app = new AppLog(admin, ns, "web", "app");
    String password = jsonField(api.get(writer, ns, "db"), "password");
    Line first = app.await("STATE", l -> true, Duration.ofSeconds(30));
    assertThat(first.fields()[1]).isEqualTo(password);
    assertThat(first.fields()[2]).isEqualTo("USERNAME='orders'");

    String put = "put-" + UUID.randomUUID().toString().replace("-", "");
    Instant beforePut = Instant.now();
    api.put(writer, ns, "db", "{\"username\":\"orders\",\"password\":\"" + put + "\"}");
    Line afterPut = app.await("STATE", l -> l.fields()[1].equals(put), Duration.ofSeconds(30));
    System.out.printf(
        "csi: put -> app read the new file: %d ms%n",
        Duration.between(beforePut, afterPut.time()).toMillis());

    // (3) The plugin stops and starts again (an upgrade, a crash): the running pod keeps its last
    // files, and once kubelet republishes the volume to the new process it follows the secret
    // again.
    plugin.destroy();
    assertThat(plugin.waitFor(30, TimeUnit.SECONDS)).as("the plugin ends on SIGTERM").isTrue();
    String duringRestart = "restart-" + UUID.randomUUID().toString().replace("-", "");
    api.put(writer, ns, "db", "{\"username\":\"orders\",\"password\":\"" + duringRestart + "\"}");
    Thread.sleep(2000);
    assertThat(app.lines("STATE").get(app.lines("STATE").size() - 1).fields()[1])
        .as("no plugin, no change: the last files stay")
        .isEqualTo(put);
    Instant restarted = Instant.now();
    plugin = startPlugin(node, kubeletRoot, keywarden.hostApiUrl(), ca);
    Line afterRestart =
        app.await("STATE", l -> l.fields()[1].equals(duringRestart), Duration.ofSeconds(240));
    System.out.printf(
        "csi: plugin restart -> the pod's file followed the secret again: %d ms%n",
        Duration.between(restarted, afterRestart.time()).toMillis());
    assertThat(pluginLog()).contains("took over volume");
    String afterTakeover = "after-" + UUID.randomUUID().toString().replace("-", "");
    api.put(writer, ns, "db", "{\"username\":\"orders\",\"password\":\"" + afterTakeover + "\"}");
    app.await("STATE", l -> l.fields()[1].equals(afterTakeover), Duration.ofSeconds(30));

    // (4) A pod whose ServiceAccount has no access gets no files, and its events say why.
    admin.pods().inNamespace(ns).resource(pod("nosy", "stranger", node.busyboxImage())).create();
    Event refused =
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(500))
            .until(
                () ->
                    admin.v1().events().inNamespace(ns).list().getItems().stream()
                        .filter(e -> "nosy".equals(e.getInvolvedObject().getName()))
                        .filter(e -> "FailedMount".equals(e.getReason()))
                        .findFirst()
                        .orElse(null),
                e -> e != null);
    System.out.println("csi: refused pod's event: " + refused.getMessage());
    assertThat(refused.getMessage())
        .contains("PermissionDenied")
        .contains("pod " + ns + "/nosy (ServiceAccount stranger) may not read secret db");
    assertThat(admin.pods().inNamespace(ns).withName("nosy").get().getStatus().getPhase())
        .isEqualTo("Pending");

    // (5) Deleting the pods unmounts their volumes.
    String uid = admin.pods().inNamespace(ns).withName("web").get().getMetadata().getUid();
    admin.pods().inNamespace(ns).withName("web").withGracePeriod(0).delete();
    admin.pods().inNamespace(ns).withName("nosy").withGracePeriod(0).delete();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> !Files.readString(Path.of("/proc/self/mountinfo")).contains(uid));
    assertThat(pluginLog()).contains("unpublished volume").doesNotContain(put);
  }

  private Process startPlugin(ClusterNode node, Path kubeletRoot, String apiUrl, Path ca)
      throws Exception {
    Path jar =
        Files.list(RepositoryRoot.find().resolve("csi/target"))
            .filter(p -> p.getFileName().toString().matches("keywarden-csi-.*\\.jar"))
            .filter(p -> !p.getFileName().toString().contains("tests"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("csi/target has no jar: build the csi module"));
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                jar.toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(state.resolve("plugin.log").toFile()));
    Map<String, String> env = builder.environment();
    env.put("KEYWARDEN_CSI_NODE_ID", node.name());
    env.put(
        "KEYWARDEN_CSI_SOCKET", kubeletRoot.resolve("plugins/" + DRIVER + "/csi.sock").toString());
    env.put("KEYWARDEN_CSI_REGISTRATION_DIR", kubeletRoot.resolve("plugins_registry").toString());
    env.put("KEYWARDEN_CSI_STATE_DIR", state.resolve("state").toString());
    env.put("KEYWARDEN_API_URL", apiUrl);
    env.put("KEYWARDEN_API_CA_FILE", ca.toString());
    return builder.start();
  }

  private String pluginLog() throws Exception {
    return Files.readString(state.resolve("plugin.log"));
  }

  /** busybox printing what it reads from the volume, five times a second. */
  private static Pod pod(String name, String serviceAccount, String image) {
    String script =
        "while true; do echo STATE $(cat /secrets/password) $(head -n1 /secrets/db.env); sleep 0.2; done";
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName(serviceAccount)
        .withTerminationGracePeriodSeconds(1L)
        .addNewContainer()
        .withName("app")
        .withImage(image)
        .withCommand("sh", "-c", script)
        .addNewVolumeMount()
        .withName("secrets")
        .withMountPath("/secrets")
        .withReadOnly(true)
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("secrets")
        .withNewCsi()
        .withDriver(DRIVER)
        .withReadOnly(true)
        .withVolumeAttributes(
            Map.of(
                "secret.password", "db",
                "key.password", "password",
                "secret.db.env", "db",
                "format.db.env", "env",
                "file-mode", "0444"))
        .endCsi()
        .endVolume()
        .endSpec()
        .build();
  }

  private void awaitRunning(String ns, String name) throws Exception {
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
