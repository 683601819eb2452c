package io.keywarden.testcluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlPlaneTest {

  @Test
  void findsTheCheckoutWithTheClusterScripts() {
    Path root = RepositoryRoot.find();
    assertThat(root.resolve("test-cluster/up")).isExecutable();
    assertThat(root.resolve("test-cluster/down")).isExecutable();
  }

  @Test
  void failingScriptReportsItsExitCode() {
    assertThatThrownBy(
            () -> Scripts.run(List.of("sh", "-c", "echo oops >&2; exit 3"), 10, TimeUnit.SECONDS))
        .hasMessageContaining("exit code 3");
  }

  @Test
  void downRefusesADirectoryThatIsNotACluster(@TempDir Path dir) throws IOException {
    Path keep = Files.writeString(dir.resolve("precious.txt"), "x");
    Path down = RepositoryRoot.find().resolve("test-cluster/down");

    assertThatThrownBy(
            () -> Scripts.run(List.of(down.toString(), dir.toString()), 10, TimeUnit.SECONDS))
        .hasMessageContaining("exit code 1");
    assertThat(keep).exists();
  }

  @Test
  void theFirstForkAttachesToTheRunsClusterAndLaterForksStartTheirOwn() {
    assertThat(ControlPlane.source(1, null, "/tmp/cluster", false))
        .isEqualTo(ControlPlane.Source.CLUSTER_DIR);
    assertThat(ControlPlane.source(2, null, "/tmp/cluster", false))
        .isEqualTo(ControlPlane.Source.START);
    assertThat(ControlPlane.source(1, null, null, true)).isEqualTo(ControlPlane.Source.START);
    assertThat(ControlPlane.source(1, "/tmp/kubeconfig", "/tmp/cluster", true))
        .isEqualTo(ControlPlane.Source.KUBECONFIG);
  }

  @Test
  void aLaterForkRefusesASharedExternalClusterAndASecondNode() {
    assertThatThrownBy(() -> ControlPlane.source(2, "/tmp/kubeconfig", null, false))
        .hasMessageContaining("KEYWARDEN_TEST_KUBECONFIG")
        .hasMessageContaining("-Dkeywarden.it.forks=1");
    assertThatThrownBy(() -> ControlPlane.source(2, null, "/tmp/cluster", true))
        .hasMessageContaining("second node");
  }

  @Test
  void forkNumberComesFromTheFailsafePlaceholderWithItsPrefix() {
    assertThat(ControlPlane.fork(null)).isEqualTo(1);
    assertThat(ControlPlane.fork("fork-1")).isEqualTo(1);
    assertThat(ControlPlane.fork("fork-2")).isEqualTo(2);
    assertThatThrownBy(() -> ControlPlane.fork("fork-"))
        .hasMessageContaining("keywarden.test.fork must be fork-N");
  }
}
