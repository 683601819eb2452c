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
 *
 * <p>{@code make run MODE=pods} is the same tour with Keywarden in-cluster, as after {@code helm
 * install}: the images built and imported into the node, the chart installed with its defaults, 2
 * operator and 2 injector pods, the value read through the operator's Service, the example pod
 * mutated by the chart's webhook and running with its files.
 */
@KubernetesIT
class MakeRunIT {

  private static final Duration TOUR_TIMEOUT = Duration.ofMinutes(10);

  /**
   * MODE=pods also waits for the node if another run took it, builds three images and waits for the
   * chart's four JVM pods.
   */
  private static final Duration PODS_TOUR_TIMEOUT = Duration.ofMinutes(40);

  private static final Path NODE_LOCK = Path.of("/run/keywarden-test-node.lock");
  private static final String ANOTHER_NODE = "another test-cluster node runs on this machine";

  @Test
  void makeRunToursTheProductAndLeavesNothingBehindWhenStopped(TestCluster cluster)
      throws Exception {
    withTheNodeFreed(cluster, root -> tour(root, isRoot() && nodeFree(), false));
  }

  @Test
  void makeRunModePodsToursKeywardenRunningAsTheChartsPods(TestCluster cluster) throws Exception {
    withTheNodeFreed(
        cluster,
        root -> {
          // MODE=pods waits for the node (a colleague's run may take it once this run frees it).
          if (isRoot()) {
            tour(root, true, true);
          } else {
            // MODE=pods has no way without the node: it must say why and fail.
            Path output = Files.createTempFile("keywarden-make-run", ".log");
            Process make = makeRun(root, "MODE=pods", output);
            assertThat(make.waitFor(5, TimeUnit.MINUTES)).isTrue();
            assertThat(make.exitValue()).isNotZero();
            assertThat(Files.readString(output)).contains("make run: MODE=pods but no node: ");
            Files.delete(output);
          }
        });
  }

  interface Tour {
    void run(Path root) throws Exception;
  }

  private static void withTheNodeFreed(TestCluster cluster, Tour tour) throws Exception {
    Path root = RepositoryRoot.find();
    Optional<ClusterNode> runNode = cluster.controlPlane().node();
    Path runDir = cluster.controlPlane().stateDir().orElse(null);
    if (runNode.isPresent()) {
      nodeScript(root, "node-down", runDir);
    }
    try {
      tour.run(root);
    } finally {
      if (runNode.isPresent()) {
        // The rest of the run needs its node back (waits for it like scripts/test, if taken).
        nodeScript(root, "node-up", runDir);
      }
    }
  }

  private static Process makeRun(Path root, String mode, Path output) throws IOException {
    List<String> command =
        new java.util.ArrayList<>(List.of("make", "--no-print-directory", "run"));
    if (mode != null) {
      command.add(mode);
    }
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(root.toFile())
            .redirectErrorStream(true)
            .redirectOutput(output.toFile());
    builder.environment().remove("KUBECONFIG");
    builder.environment().remove("KEYWARDEN_TEST_CLUSTER_DIR");
    builder.environment().remove("KEYWARDEN_RUN_MODE");
    // The reactor has just built the jars this run starts (or puts into images).
    builder.environment().put("KEYWARDEN_RUN_SKIP_BUILD", "1");
    return builder.start();
  }

  private static void tour(Path root, boolean nodeExpected, boolean pods) throws Exception {
    Path output = Files.createTempFile("keywarden-make-run", ".log");
    Process make = makeRun(root, pods ? "MODE=pods" : null, output);
    try {
      String text =
          awaitOutput(
              make,
              output,
              "make run: Ctrl-C stops everything",
              pods ? PODS_TOUR_TIMEOUT : TOUR_TIMEOUT);

      assertThat(text).contains("make run: local control plane up");
      if (pods) {
        // The run's own lines (times included) for the test report.
        text.lines().filter(l -> l.startsWith("make run: ")).forEach(System.out::println);
        assertRanAsTheChartsPods(text);
      } else {
        assertThat(text).contains("make run: CRDs installed");
        // Hook rotations authenticate with tokens of the operator's ServiceAccount (issue 13).
        assertThat(text)
            .contains(
                "make run: ServiceAccount keywarden-system/keywarden-operator ready for rotation"
                    + " hooks");
      }
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
        assertPodRan(text, pods);
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
      assertThat(pids).as("host processes of Keywarden").hasSize(pods ? 0 : 2);
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
  private static void assertPodRan(String text, boolean pods) {
    assertThat(text)
        .contains(
            pods
                ? "make run: images ghcr.io/keywarden/{operator,injector,agent}:0.1.0 imported"
                : "make run: agent image ghcr.io/keywarden/agent:0.1.0 imported",
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

  /**
   * MODE=pods: the chart installed with its defaults ran 2 operator and 2 injector pods from the
   * imported images, and the tour read the value through the operator's Service by its cluster DNS
   * name.
   */
  private static void assertRanAsTheChartsPods(String text) {
    assertThat(text)
        .contains(
            "=== helm install keywarden helm/keywarden --namespace keywarden-system"
                + " --create-namespace",
            "STATUS: deployed")
        .containsPattern("make run: 2 operator and 2 injector pods Ready \\d+ s after helm install")
        .containsPattern("(?m)^keywarden-operator-\\S+\\s+1/1\\s+Running\\s+0\\s")
        .containsPattern("(?m)^keywarden-injector-\\S+\\s+1/1\\s+Running\\s+0\\s")
        .contains(
            "--resolve keywarden-operator.keywarden-system.svc:8443:",
            "https://keywarden-operator.keywarden-system.svc:8443/v1/namespaces/keywarden-demo/")
        .doesNotContain("operator running (pid", "injector running (pid");
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

  private static String awaitOutput(Process make, Path output, String marker, Duration timeout)
      throws Exception {
    Instant deadline = Instant.now().plus(timeout);
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
        "no '" + marker + "' within " + timeout + ":\n" + Files.readString(output));
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
