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
}
