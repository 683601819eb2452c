package io.keywarden.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.keywarden.testcluster.AwsClients;
import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.RepositoryRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The images the end-to-end pods run, imported into the node's containerd (nothing is pulled). */
final class TestImages {

  /** The agent image make images builds, under the name the injector's default settings use. */
  static final String AGENT = "ghcr.io/keywarden/agent:0.1.0";

  private TestImages() {}

  /** The agent image from make images' tool, built when missing or older than the agent jar. */
  static String importAgent(ClusterNode node) throws Exception {
    Path root = RepositoryRoot.find();
    Path tar = root.resolve("images/target/oci/agent.tar");
    Path jar;
    try (Stream<Path> jars = Files.list(root.resolve("agent/target"))) {
      jar =
          jars.filter(p -> p.getFileName().toString().matches("keywarden-agent-.*\\.jar"))
              .findFirst()
              .orElseThrow();
    }
    if (!Files.exists(tar)
        || Files.getLastModifiedTime(tar).compareTo(Files.getLastModifiedTime(jar)) < 0) {
      // images/ is no Maven module: its target/ exists only once build-images has run.
      Files.createDirectories(root.resolve("images/target"));
      run(
          root.resolve("images/target/build-images.log"),
          root.resolve("images/bin/build-images").toString(),
          "--only",
          "agent");
    }
    String out = node.importImage(tar);
    System.out.printf("agent image imported: %s%n", out.strip());
    return AGENT;
  }

  /**
   * Busybox whose image config names a non-root user and group, {@code uid:uid}, and nothing in
   * /etc/passwd: an app image whose user the pod spec does not say (the injector cannot know it).
   */
  static String importBusyboxAsUser(ClusterNode node, long uid) throws Exception {
    String name = "keywarden.test/busybox-user:" + uid;
    Path layer = Files.createTempDirectory("keywarden-busybox-user");
    Path tar = layer.resolveSibling(layer.getFileName() + ".tar");
    try {
      Path bin = Files.createDirectories(layer.resolve("bin"));
      Files.createDirectories(layer.resolve("tmp"));
      Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
      Process list = new ProcessBuilder("/bin/busybox", "--list").start();
      List<String> applets = new String(list.getInputStream().readAllBytes()).lines().toList();
      assertThat(list.waitFor()).isZero();
      for (String applet : applets) {
        if (!applet.equals("busybox")) {
          Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
      }
      run(
          layer.resolveSibling(layer.getFileName() + ".log"),
          "python3",
          RepositoryRoot.find().resolve("test-cluster/oci-image").toString(),
          "--name",
          name,
          "--user",
          uid + ":" + uid,
          "--env",
          "PATH=/bin",
          "--cmd",
          "sh",
          "--out",
          tar.toString(),
          layer.toString());
      node.importImage(tar);
      return name;
    } finally {
      try (Stream<Path> files = Files.walk(layer)) {
        files.sorted((a, b) -> b.compareTo(a)).forEach(TestImages::deleteQuietly);
      }
      deleteQuietly(tar);
    }
  }

  /**
   * Python with boto3, made from this machine (the node pulls nothing): the interpreter of the AWS
   * clients' venv, its standard library and shared-library closure, and the venv's packages on
   * PYTHONPATH (python-boto3-layer.py says what is left out). The image's only setting is where
   * Python is; an app runs it as {@code python3 -c …}.
   */
  static String importPythonBoto3(ClusterNode node) throws Exception {
    String name = "keywarden.test/python-boto3:1";
    Path layer = Files.createTempDirectory("keywarden-python");
    Path tar = layer.resolveSibling(layer.getFileName() + ".tar");
    Path log = layer.resolveSibling(layer.getFileName() + ".log");
    try {
      Files.delete(layer);
      run(
          log,
          AwsClients.python().toString(),
          RepositoryRoot.find().resolve("e2e/src/test/resources/python-boto3-layer.py").toString(),
          layer.toString());
      Path python = AwsClients.python().toRealPath();
      run(
          log,
          "python3",
          RepositoryRoot.find().resolve("test-cluster/oci-image").toString(),
          "--name",
          name,
          "--env",
          "PATH=" + python.getParent() + ":/bin",
          "--env",
          "PYTHONPATH=/app/site-packages",
          "--cmd",
          "python3",
          "--out",
          tar.toString(),
          layer.toString());
      node.importImage(tar);
      return name;
    } finally {
      if (Files.exists(layer)) {
        try (Stream<Path> files = Files.walk(layer)) {
          files.sorted((a, b) -> b.compareTo(a)).forEach(TestImages::deleteQuietly);
        }
      }
      deleteQuietly(tar);
      deleteQuietly(log);
    }
  }

  private static void run(Path log, String... command) throws Exception {
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(process.waitFor(10, TimeUnit.MINUTES)).as(command[0]).isTrue();
    assertThat(process.exitValue()).as("%s, see %s", command[0], log).isZero();
  }

  private static void deleteQuietly(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // a temporary file; the next run does not depend on it
    }
  }
}
