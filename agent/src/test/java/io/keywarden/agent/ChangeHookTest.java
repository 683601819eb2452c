package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.keywarden.agent.AgentConfig.OnChange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChangeHookTest {

  @TempDir Path dir;

  private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
  private final Log log = new Log(new PrintStream(logged, true, StandardCharsets.UTF_8));

  /**
   * A pod with a shared process namespace as the agent sees it: pause (1), the app's main process
   * (7) with a worker (9), the agent's launcher shell (20) and the agent (21) with an exec child
   * (30), a sidecar (40).
   */
  private Path fakeProc() throws IOException {
    Path proc = Files.createDirectory(dir.resolve("proc"));
    process(proc, 1, 0);
    process(proc, 7, 0);
    process(proc, 9, 7);
    process(proc, 20, 0);
    process(proc, 21, 20);
    process(proc, 30, 21);
    process(proc, 40, 0);
    Files.createDirectory(proc.resolve("self"));
    Files.writeString(proc.resolve("uptime"), "1.0 1.0\n");
    return proc;
  }

  private static void process(Path proc, long pid, long parent) throws IOException {
    Path dir = Files.createDirectory(proc.resolve(Long.toString(pid)));
    Files.writeString(
        dir.resolve("status"),
        "Name:\tx\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t"
            + pid
            + "\nNgid:\t0\nPid:\t"
            + pid
            + "\nPPid:\t"
            + parent
            + "\nTracerPid:\t0\n");
  }

  @Test
  void signalGoesToEveryContainersMainProcessButPauseAndTheAgent() throws IOException {
    ChangeHook hook =
        new ChangeHook(new OnChange(OnChange.Kind.SIGNAL, "HUP", null), fakeProc(), 21, log);

    assertThat(hook.signalTargets()).containsExactly(7L, 40L);
  }

  @Test
  void withoutASharedProcessNamespaceThereIsNobodyToSignal() throws IOException {
    Path proc = Files.createDirectory(dir.resolve("proc"));
    process(proc, 1, 0);
    process(proc, 12, 1);
    ChangeHook hook = new ChangeHook(new OnChange(OnChange.Kind.SIGNAL, "HUP", null), proc, 1, log);

    assertThat(hook.signalTargets()).isEmpty();
    hook.run();
    assertThat(logged.toString(StandardCharsets.UTF_8))
        .contains("WARN")
        .contains("shareProcessNamespace");
  }

  @Test
  void signalReachesARealProcess() throws Exception {
    // A child of this JVM stands in for the app: it records SIGHUP and exits. Only it is made a
    // target.
    Path marker = dir.resolve("hup");
    Process app =
        new ProcessBuilder(
                "/bin/sh",
                "-c",
                "trap 'echo hup > \"$1\"; exit 0' HUP; echo ready; while :; do sleep 0.05; done",
                "sh",
                marker.toString())
            .start();
    app.getInputStream().read();
    Path proc = Files.createDirectory(dir.resolve("proc"));
    process(proc, 1, 0);
    process(proc, app.pid(), 0);

    new ChangeHook(
            new OnChange(OnChange.Kind.SIGNAL, "HUP", null),
            proc,
            ProcessHandle.current().pid(),
            log)
        .run();

    assertThat(app.waitFor()).isZero();
    assertThat(marker).hasContent("hup");
    assertThat(logged.toString(StandardCharsets.UTF_8))
        .contains("sent SIGHUP to pids [" + app.pid() + "]");
  }

  @Test
  void execRunsTheCommandWithShAndLogsItsExitCodeNotItsOutput() throws IOException {
    Path marker = dir.resolve("ran");
    String command = "echo hunter2; echo ran >> " + marker + "; exit 3";

    new ChangeHook(new OnChange(OnChange.Kind.EXEC, null, command), dir, 1, log).run();

    assertThat(marker).hasContent("ran");
    assertThat(logged.toString(StandardCharsets.UTF_8))
        .contains("on-change command exited with 3")
        .doesNotContain("hunter2");
  }
}
