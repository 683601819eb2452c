package io.keywarden.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TestCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's first command as a newcomer runs it: no cluster configured, so `make run` starts its
 * own control plane, with the machine's node when it can, runs operator and injector, tours the
 * examples and keeps running until it is told to stop, after which none of its processes or files
 * may remain.
 *
 * <p>One machine runs one node, and under {@code make test} this run holds it. So that the tour's
 * node path is what gets checked, this run's own node gives way ({@code test-cluster/node-down})
 * while make run goes, and comes back afterwards ({@code node-up}), as in NodeTeardownIT. Without
 * root, or when another run takes the freed node first, make run goes on without a node; the test
 * then checks that it says so and tours as before.
 */
@KubernetesIT
class MakeRunIT {

  private static final Duration TOUR_TIMEOUT = Duration.ofMinutes(10);
  private static final Path NODE_LOCK = Path.of("/run/keywarden-test-node.lock");
  private static final String ANOTHER_NODE = "another test-cluster node runs on this machine";

  @Test
  void makeRunToursTheProductAndLeavesNothingBehindWhenStopped(TestCluster cluster)
      throws Exception {
    Path root = RepositoryRoot.find();
    Optional<ClusterNode> runNode = cluster.controlPlane().node();
    Path runDir = cluster.controlPlane().stateDir().orElse(null);
    if (runNode.isPresent()) {
      nodeScript(root, "node-down", runDir);
    }
    try {
      tour(root, isRoot() && nodeFree());
    } finally {
      if (runNode.isPresent()) {
        // The rest of the run needs its node back (waits for it like scripts/test, if taken).
        nodeScript(root, "node-up", runDir);
      }
    }
  }

  private void tour(Path root, boolean nodeExpected) throws Exception {
    Path output = Files.createTempFile("keywarden-make-run", ".log");
    ProcessBuilder builder =
        new ProcessBuilder("make", "--no-print-directory", "run")
            .directory(root.toFile())
            .redirectErrorStream(true)
            .redirectOutput(output.toFile());
    builder.environment().remove("KUBECONFIG");
    builder.environment().remove("KEYWARDEN_TEST_CLUSTER_DIR");
    // The reactor has just built the jars this run starts.
    builder.environment().put("KEYWARDEN_RUN_SKIP_BUILD", "1");
    Process make = builder.start();
    try {
      String text = awaitOutput(make, output, "make run: Ctrl-C stops everything");

      assertThat(text).contains("make run: local control plane up", "make run: CRDs installed");
      // Hook rotations authenticate with tokens of the operator's ServiceAccount (issue 13 item 6).
      assertThat(text)
          .contains(
              "make run: ServiceAccount keywarden-system/keywarden-operator ready for rotation hooks");
      assertThat(text).containsPattern("(?m)^db-credentials\\s+\\S+\\s+True\\s+[0-9a-f-]{36}");
      assertThat(text).containsPattern("(?m)^api-key\\s+\\S+\\s+True");
      assertThat(text).contains("condition Ready=True (VersionAvailable)");
      // The value read through the API with the ServiceAccount's token:
      assertThat(text)
          .containsPattern(
              "\"SecretString\":\"\\{\\\\\"username\\\\\":\\\\\"orders\\\\\",\\\\\"password\\\\\":");
      // The mutated pod: the agent as a native sidecar, the files mounted read-only into the app.
      assertThat(text)
          .contains(
              "initContainer keywarden-agent:",
              "restartPolicy=Always startupProbe=yes",
              "/var/run/secrets/keywarden (ro)",
              "volume keywarden-secrets: emptyDir {\"medium\": \"Memory\"",
              "\"audience\": \"keywarden.io\"");
      assertThat(text).containsPattern("CURRENT moved: [0-9a-f-]{36} -> [0-9a-f-]{36}");
      assertThat(text).contains("RotationSucceeded: generate rotation finished");
      boolean withNode = text.contains("make run: local control plane up with node");
      if (withNode) {
        assertPodRan(text);
      } else {
        assertThat(text)
            .contains("make run: no node: ", "the pod stays Pending")
            .doesNotContain("kubectl logs orders-app");
        // Root and a free node: make run must have taken it, unless another run took it first.
        if (nodeExpected) {
          assertThat(text).as("make run had root and a free node").contains(ANOTHER_NODE);
        }
      }
      // A hook rotation: the operator's ServiceAccount token reaches the hook (issue 13 item 6).
      assertThat(text).contains("hook rotation: Succeeded");

      List<Long> pids = pids(text);
      assertThat(pids).hasSize(2);
      Path clusterDir = Path.of(match(text, "state in (\\S+)\\)"));
      assertThat(clusterDir).isDirectory();

      // Ctrl-C and SIGTERM run the same trap in scripts/run. SIGTERM is sent because a test runner
      // started in the background hands its children SIGINT already ignored, and bash cannot trap
      // a signal ignored at entry. Only the script is signalled: it must stop its children itself.
      ProcessHandle script =
          make.descendants()
              .filter(
                  p -> p.info().commandLine().filter(c -> c.contains("scripts/run")).isPresent())
              .findFirst()
              .orElseThrow();
      new ProcessBuilder("kill", "-TERM", Long.toString(script.pid()))
          .inheritIO()
          .start()
          .waitFor();
      assertThat(make.waitFor(90, TimeUnit.SECONDS)).as("make run ended when stopped").isTrue();
      String end = Files.readString(output);
      assertThat(make.exitValue()).as("exit code when stopped; output:%n%s", end).isZero();
      assertThat(end)
          .contains(
              "make run: local control plane stopped and removed",
              "make run: stopped; nothing left running");
      for (long pid : pids) {
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive))
            .as("process %d", pid)
            .isEmpty();
      }
      assertThat(clusterDir).doesNotExist();
      if (withNode) {
        assertThat(Path.of("/sys/class/net/keywarden0")).as("the node's bridge").doesNotExist();
      }
      assertThat(
              ProcessHandle.allProcesses()
                  .filter(
                      p ->
                          p.info()
                              .commandLine()
                              .filter(
                                  c ->
                                      c.contains(clusterDir.toString())
                                          || c.contains("keywarden-run."))
                              .isPresent())
                  .toList())
          .as("processes of the run's control plane or state")
          .isEmpty();
    } finally {
      if (make.isAlive()) {
        make.descendants().forEach(ProcessHandle::destroyForcibly);
        make.destroyForcibly();
      }
      Files.deleteIfExists(output);
    }
  }

  /**
   * The example pod ran on the node: the app printed the password the API gave before the rotation,
   * then, after the agent's SIGHUP, the rotated one, with no container restarted.
   */
  private static void assertPodRan(String text) {
    assertThat(text)
        .contains(
            "make run: agent image ghcr.io/keywarden/agent:0.1.0 imported",
            "runs as the node's keywarden.test/busybox:");
    assertThat(text).containsPattern("(?m)^orders-app\\s+2/2\\s+Running\\s+0\\s");
    List<String> passwords =
        Pattern.compile("\\\\\"password\\\\\":\\\\\"([^\\\\\"]+)\\\\\"")
            .matcher(text)
            .results()
            .map(r -> r.group(1))
            .toList();
    assertThat(passwords).as("the values read before and after the rotation").hasSize(2);
    assertThat(passwords.get(0)).isNotEqualTo(passwords.get(1));
    assertThat(text)
        .contains(
            "started: db-password is " + passwords.get(0),
            "reloaded: db-password is " + passwords.get(1),
            "restarts: keywarden-agent=0 app=0");
  }

  private static boolean isRoot() throws Exception {
    Process id = new ProcessBuilder("id", "-u").start();
    String uid = new String(id.getInputStream().readAllBytes()).strip();
    return id.waitFor() == 0 && uid.equals("0");
  }

  /** No node holds the machine's lock: it names no holder, or one that is gone. */
  private static boolean nodeFree() throws IOException {
    if (!Files.exists(NODE_LOCK)) {
      return true;
    }
    String[] holder = Files.readString(NODE_LOCK).strip().split("\\s+");
    return holder.length < 2
        || ProcessHandle.of(Long.parseLong(holder[1])).filter(ProcessHandle::isAlive).isEmpty();
  }

  private static void nodeScript(Path root, String script, Path dir) throws Exception {
    Process process =
        new ProcessBuilder(root.resolve("test-cluster/" + script).toString(), dir.toString())
            .inheritIO()
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    assertThat(process.waitFor(20, TimeUnit.MINUTES)).as(script).isTrue();
    assertThat(process.exitValue()).as("test-cluster/%s %s", script, dir).isZero();
  }

  private static String awaitOutput(Process make, Path output, String marker) throws Exception {
    Instant deadline = Instant.now().plus(TOUR_TIMEOUT);
    while (Instant.now().isBefore(deadline)) {
      String text = Files.readString(output);
      if (text.contains(marker)) {
        return text;
      }
      if (!make.isAlive()) {
        throw new AssertionError(
            "make run ended (exit " + make.exitValue() + ") before '" + marker + "':\n" + text);
      }
      Thread.sleep(500);
    }
    throw new AssertionError(
        "no '" + marker + "' within " + TOUR_TIMEOUT + ":\n" + Files.readString(output));
  }

  private static List<Long> pids(String text) {
    Matcher m = Pattern.compile("(?:operator|injector) running \\(pid (\\d+)\\)").matcher(text);
    return m.results().map(r -> Long.parseLong(r.group(1))).toList();
  }

  private static String match(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("output matches %s", regex).isTrue();
    return m.group(1);
  }
}
