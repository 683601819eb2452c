package io.keywarden.helm;

import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TestCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the helm and kubectl binaries of the test cluster (test-cluster/build puts them next to
 * kube-apiserver) and the repository's scripts, against the test cluster's kubeconfig.
 */
final class Tools {

  /** What a command printed and how it ended. */
  record Result(List<String> command, int exitCode, String stdout, String stderr) {

    boolean ok() {
      return exitCode == 0;
    }

    /** The output, failing with everything the command said when it did not succeed. */
    String orFail() {
      if (!ok()) {
        throw new AssertionError(
            String.join(" ", command) + " exited with " + exitCode + "\n" + stderr + stdout);
      }
      return stdout;
    }
  }

  static final Path ROOT = RepositoryRoot.find();
  static final Path CHART = ROOT.resolve("helm/keywarden");

  private final TestCluster cluster;
  private final Path bin;

  Tools(TestCluster cluster) {
    this.cluster = cluster;
    this.bin = cluster.controlPlane().binDir().orElseGet(Tools::builtBinDir);
  }

  /** The binaries of test-cluster/build, for a cluster that test-cluster/up did not start. */
  private static Path builtBinDir() {
    Result built =
        run(List.of(ROOT.resolve("test-cluster/build").toString(), "--print-dir"), Map.of(), null);
    return Path.of(built.orFail().strip());
  }

  Path bin() {
    return bin;
  }

  Result helm(String... args) {
    return helmWithInput(null, args);
  }

  Result helmWithInput(String stdin, String... args) {
    return tool("helm", stdin, args);
  }

  Result kubectl(String... args) {
    return kubectlWithInput(null, args);
  }

  Result kubectlWithInput(String stdin, String... args) {
    return tool("kubectl", stdin, args);
  }

  /** A repository script (scripts/..., test-cluster/...), with the test cluster's binaries. */
  Result script(String path, String... args) {
    List<String> command = new ArrayList<>(List.of(ROOT.resolve(path).toString()));
    command.addAll(List.of(args));
    return run(command, Map.of("KEYWARDEN_BIN", bin.toString()), null);
  }

  private Result tool(String name, String stdin, String... args) {
    List<String> command = new ArrayList<>(List.of(bin.resolve(name).toString()));
    command.addAll(List.of(args));
    // Helm keeps its cache and config under HOME by default; a private one keeps runs apart.
    Path helmHome = ROOT.resolve("helm-test/target/helm-home");
    return run(
        command,
        Map.of(
            "KUBECONFIG", cluster.controlPlane().kubeconfig().toString(),
            "HELM_CACHE_HOME", helmHome.resolve("cache").toString(),
            "HELM_CONFIG_HOME", helmHome.resolve("config").toString(),
            "HELM_DATA_HOME", helmHome.resolve("data").toString()),
        stdin);
  }

  static Result run(List<String> command, Map<String, String> env, String stdin) {
    try {
      ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile());
      builder.environment().putAll(env);
      Process process = builder.start();
      CompletableFuture<String> out = drain(process.getInputStream());
      CompletableFuture<String> err = drain(process.getErrorStream());
      try (var in = process.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!process.waitFor(5, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new AssertionError(String.join(" ", command) + " did not finish within 5 minutes");
      }
      return new Result(List.copyOf(command), process.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static CompletableFuture<String> drain(java.io.InputStream stream) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (stream) {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
