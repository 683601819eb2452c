package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.keywarden.testcluster.ClusterNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The chart's four images as {@code make images} writes them (images/bin/build-images), imported
 * into the node's containerd under the chart's names, so that the chart's default values run with
 * nothing pulled. They are built once: again only when a jar is newer than its archive.
 */
final class ChartImages {

  static final String OPERATOR = "ghcr.io/keywarden/operator:0.1.0";
  static final String INJECTOR = "ghcr.io/keywarden/injector:0.1.0";
  static final String AGENT = "ghcr.io/keywarden/agent:0.1.0";
  static final String CSI = "ghcr.io/keywarden/keywarden-csi:0.1.0";

  private static final Path OCI = Tools.ROOT.resolve("images/target/oci");

  private ChartImages() {}

  /** Builds what is stale, imports all four; returns the names containerd now holds. */
  static List<String> importInto(ClusterNode node) throws Exception {
    if (stale()) {
      Files.createDirectories(Tools.ROOT.resolve("images/target"));
      Path log = Tools.ROOT.resolve("images/target/build-images.log");
      Process build =
          new ProcessBuilder(Tools.ROOT.resolve("images/bin/build-images").toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      assertThat(build.waitFor(15, TimeUnit.MINUTES)).isTrue();
      assertThat(build.exitValue()).as("images/bin/build-images, see " + log).isZero();
    }
    for (String name : List.of("operator", "injector", "agent", "csi")) {
      node.importImage(OCI.resolve(name + ".tar"));
    }
    List<String> images = node.images();
    assertThat(images).contains(OPERATOR, INJECTOR, AGENT, CSI);
    return images;
  }

  /**
   * Removes the four images again. The other suites of the run install the chart without wanting
   * its pods (they run the operator on the host): with the images gone, those pods wait on a pull
   * that never happens instead of starting a second operator beside the suite's own.
   */
  static void removeFrom(ClusterNode node) {
    node.removeImages(OPERATOR, INJECTOR, AGENT, CSI);
  }

  private static boolean stale() throws IOException {
    return olderThan("operator.tar", Tools.ROOT.resolve("operator/target/quarkus-app"))
        || olderThan("injector.tar", Tools.ROOT.resolve("injector/target/quarkus-app"))
        || olderThan("agent.tar", agentJar())
        || olderThan("csi.tar", jar("csi", "keywarden-csi"));
  }

  private static boolean olderThan(String archive, Path input) throws IOException {
    Path tar = OCI.resolve(archive);
    if (!Files.exists(tar)) {
      return true;
    }
    FileTime built = Files.getLastModifiedTime(tar);
    try (Stream<Path> files = Files.walk(input)) {
      return files.filter(Files::isRegularFile).anyMatch(f -> modified(f).compareTo(built) > 0);
    }
  }

  private static FileTime modified(Path file) {
    try {
      return Files.getLastModifiedTime(file);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Path agentJar() throws IOException {
    return jar("agent", "keywarden-agent");
  }

  private static Path jar(String module, String artifact) throws IOException {
    try (Stream<Path> jars = Files.list(Tools.ROOT.resolve(module + "/target"))) {
      return jars.filter(p -> p.getFileName().toString().matches(artifact + "-.*\\.jar"))
          .filter(p -> !p.getFileName().toString().endsWith("-tests.jar"))
          .findFirst()
          .orElseThrow(
              () -> new IllegalStateException("no " + artifact + " jar: build the " + module));
    }
  }
}
