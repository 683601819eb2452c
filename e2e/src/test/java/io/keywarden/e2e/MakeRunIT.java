package io.keywarden.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.keywarden.testcluster.RepositoryRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's first command as a newcomer runs it: no cluster configured, so `make run` starts its
 * own control plane, runs operator and injector, tours the examples and keeps running until it is
 * told to stop, after which none of its processes or files may remain.
 */
class MakeRunIT {

  private static final Duration TOUR_TIMEOUT = Duration.ofMinutes(5);

  @Test
  void makeRunToursTheProductAndLeavesNothingBehindWhenStopped() throws Exception {
    Path root = RepositoryRoot.find();
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
