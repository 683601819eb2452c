package io.keywarden.testcluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterNodeTest {

  private static Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("KUBECONFIG", "/tmp/c/kubeconfig");
    env.put("NODE_NAME", "localhost");
    env.put("NODE_IP", "10.244.0.1");
    env.put("NODE_BRIDGE", "keywarden0");
    env.put("CONTAINERD_ADDRESS", "/tmp/c/node/containerd.sock");
    env.put("CTR", "/cache/node/bin/ctr");
    env.put("BUSYBOX_IMAGE", "keywarden.test/busybox:1.35.0");
    env.put("BUSYBOX_IMAGE_TAR", "/cache/node/images/busybox.tar");
    return env;
  }

  @Test
  void clusterEnvOfUpWithNodeDescribesTheNode() {
    ClusterNode node = ClusterNode.fromEnv(env()).orElseThrow();

    assertThat(node.name()).isEqualTo("localhost");
    assertThat(node.ip()).isEqualTo("10.244.0.1");
    assertThat(node.containerdSocket()).isEqualTo(Path.of("/tmp/c/node/containerd.sock"));
    assertThat(node.ctr()).isEqualTo(Path.of("/cache/node/bin/ctr"));
    assertThat(node.busyboxImage()).isEqualTo("keywarden.test/busybox:1.35.0");
  }

  @Test
  void clusterEnvWithoutNodeHasNone() {
    Map<String, String> env = env();
    env.keySet().removeIf(key -> !key.equals("KUBECONFIG"));

    assertThat(ClusterNode.fromEnv(env)).isEmpty();
  }

  @Test
  void incompleteNodeLinesNameTheMissingSetting() {
    Map<String, String> env = env();
    env.remove("CONTAINERD_ADDRESS");

    assertThatThrownBy(() -> ClusterNode.fromEnv(env))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no CONTAINERD_ADDRESS");
  }

  @Test
  void importingAMissingTarNamesIt() {
    ClusterNode node = ClusterNode.fromEnv(env()).orElseThrow();

    assertThatThrownBy(() -> node.importImage(Path.of("/nonexistent/image.tar")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/nonexistent/image.tar");
  }
}
