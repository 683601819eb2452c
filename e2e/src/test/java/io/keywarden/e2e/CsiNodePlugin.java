package io.keywarden.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.storage.CSINode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TestCluster;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The CSI node plugin as a host process beside the test node's kubelet (root, the host's mount
 * namespace, as kubelet's own mounts are; a DaemonSet pod would need a privileged container with
 * Bidirectional mount propagation), with the shipped CSIDriver object, registered through kubelet's
 * plugin watcher. The plugin reaches the operator's API on the host with each pod's own token. What
 * {@link CsiNodeIT} and {@link CsiModeIT} share.
 */
final class CsiNodePlugin implements AutoCloseable {

  static final String DRIVER = "csi.keywarden.io";

  private final KubernetesClient admin;
  private final ClusterNode node;
  private final Path kubeletRoot;
  private final Path state;
  private final Path ca;
  private final String apiUrl;
  private final HasMetadata csiDriver;
  private Process process;

  private CsiNodePlugin(TestCluster cluster, ClusterNode node, String apiUrl, String apiCa)
      throws Exception {
    this.admin = cluster.admin();
    this.node = node;
    this.apiUrl = apiUrl;
    // The node's kubelet runs with --root-dir <state>/node/kubelet, beside containerd's socket.
    this.kubeletRoot = node.containerdSocket().getParent().resolve("kubelet");
    this.state = Files.createTempDirectory("keywarden-csi-");
    this.ca = Files.writeString(state.resolve("api-ca.pem"), apiCa);
    try (InputStream yaml =
        new FileInputStream(RepositoryRoot.find().resolve("csi/deploy/csidriver.yaml").toFile())) {
      this.csiDriver =
          admin
              .resource(admin.getKubernetesSerialization().unmarshal(yaml, HasMetadata.class))
              .createOr(NonDeletingOperation::update);
    }
  }

  /**
   * Creates the CSIDriver object, starts the plugin and waits until kubelet registered it (the
   * node's CSINode lists the driver).
   *
   * @param apiUrl the operator's API as the plugin on the host reaches it
   * @param apiCa the PEM the operator published for its API
   */
  static CsiNodePlugin start(TestCluster cluster, ClusterNode node, String apiUrl, String apiCa)
      throws Exception {
    CsiNodePlugin plugin = new CsiNodePlugin(cluster, node, apiUrl, apiCa);
    try {
      plugin.start();
      plugin.awaitRegistered();
      return plugin;
    } catch (Exception | AssertionError e) {
      plugin.close();
      throw e;
    }
  }

  /** Starts the plugin process (again, after {@link #stop}). */
  void start() throws Exception {
    Path jar;
    try (var files = Files.list(RepositoryRoot.find().resolve("csi/target"))) {
      jar =
          files
              .filter(p -> p.getFileName().toString().matches("keywarden-csi-.*\\.jar"))
              .filter(p -> !p.getFileName().toString().contains("tests"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("csi/target has no jar: build the csi module"));
    }
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
    env.put("KEYWARDEN_CSI_KUBELET_DIR", kubeletRoot.toString());
    env.put("KEYWARDEN_CSI_STATE_DIR", state.resolve("state").toString());
    env.put("KEYWARDEN_API_URL", apiUrl);
    env.put("KEYWARDEN_API_CA_FILE", ca.toString());
    process = builder.start();
  }

  /** kubelet registered the driver through its plugin watcher. */
  void awaitRegistered() {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              assertThat(process.isAlive()).as("plugin running; its log:%n%s", log()).isTrue();
              CSINode csiNode = admin.storage().v1().csiNodes().withName(node.name()).get();
              return csiNode != null
                  && csiNode.getSpec().getDrivers() != null
                  && csiNode.getSpec().getDrivers().stream()
                      .anyMatch(d -> d.getName().equals(DRIVER));
            });
  }

  /** SIGTERM; whether the plugin ended within {@code timeout}. */
  boolean stop(Duration timeout) throws InterruptedException {
    process.destroy();
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Everything the plugin printed, across restarts. */
  String log() throws Exception {
    Path log = state.resolve("plugin.log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  @Override
  public void close() throws Exception {
    if (process != null) {
      process.destroy();
      process.waitFor(20, TimeUnit.SECONDS);
      process.destroyForcibly();
    }
    admin.resource(csiDriver).delete();
  }
}
