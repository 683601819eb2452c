package io.keywarden.agent;

import io.keywarden.agent.AgentConfig.OnChange;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Tells the app that its files changed ({@code KEYWARDEN_ON_CHANGE}); runs after every write that
 * changed files, never after the first one.
 *
 * <ul>
 *   <li>{@code signal:SIGHUP}: with {@code shareProcessNamespace: true} every container's main
 *       process is visible in {@code /proc} with parent pid 0 (its parent, the runtime's shim,
 *       lives outside the pod's pid namespace). The signal goes to each such process except pid 1
 *       (the pause container), the agent itself and the agent's ancestors, the way {@code docker
 *       kill --signal} addresses a container's main process and not its workers. It is sent with
 *       {@code kill(1)}, which the agent image must contain, because Java can only send SIGTERM and
 *       SIGKILL. A process of another user is skipped by the kernel (EPERM) unless the agent runs
 *       as that user.
 *   <li>{@code exec:<command>}: {@code /bin/sh -c <command>} in the agent container, at most 30
 *       seconds, its output discarded (it could print a value); the exit code is logged.
 * </ul>
 */
final class ChangeHook {

  static final long EXEC_TIMEOUT_SECONDS = 30;
  private static final long KILL_TIMEOUT_SECONDS = 5;

  private final OnChange onChange;
  private final Path procRoot;
  private final long selfPid;
  private final Log log;

  ChangeHook(OnChange onChange, Path procRoot, long selfPid, Log log) {
    this.onChange = onChange;
    this.procRoot = procRoot;
    this.selfPid = selfPid;
    this.log = log;
  }

  /**
   * Runs the hook; failures are logged, since the files are already written. Serialised across
   * callers.
   */
  synchronized void run() {
    try {
      switch (onChange.kind()) {
        case NONE -> {}
        case SIGNAL -> signal();
        case EXEC -> exec();
      }
    } catch (IOException e) {
      log.error("on-change " + onChange + " failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void signal() throws IOException, InterruptedException {
    List<Long> pids = signalTargets();
    if (pids.isEmpty()) {
      log.warn(
          "on-change signal:SIG"
              + onChange.signal()
              + ": no other container's process is visible in "
              + procRoot
              + "; does the pod set shareProcessNamespace: true?");
      return;
    }
    List<String> command = new ArrayList<>(List.of("kill", "-s", onChange.signal()));
    for (long pid : pids) {
      command.add(Long.toString(pid));
    }
    Process kill =
        new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (!kill.waitFor(KILL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      kill.destroyForcibly();
      log.error(
          "on-change: kill -s "
              + onChange.signal()
              + " did not finish within "
              + KILL_TIMEOUT_SECONDS
              + " s");
      return;
    }
    // kill(1) exits 1 when any one pid failed (gone, or another user's); the others were signalled.
    log.info(
        "on-change: sent SIG"
            + onChange.signal()
            + " to pids "
            + pids
            + " (kill exit code "
            + kill.exitValue()
            + ")");
  }

  /** Pids with parent pid 0, without pid 1, the agent and its ancestors; ascending. */
  List<Long> signalTargets() throws IOException {
    Set<Long> excluded = new HashSet<>();
    excluded.add(1L);
    for (long pid = selfPid; pid > 0 && excluded.add(pid); ) {
      pid = parentPid(pid);
    }
    List<Long> targets = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(procRoot)) {
      for (Path entry : entries) {
        long pid = pidOf(entry.getFileName().toString());
        if (pid > 0 && !excluded.contains(pid) && parentPid(pid) == 0) {
          targets.add(pid);
        }
      }
    }
    targets.sort(null);
    return targets;
  }

  // "PPid:\t123" in /proc/<pid>/status; -1 when the process is gone or unreadable.
  private long parentPid(long pid) {
    try (BufferedReader status =
        Files.newBufferedReader(
            procRoot.resolve(Long.toString(pid)).resolve("status"), StandardCharsets.US_ASCII)) {
      for (String line = status.readLine(); line != null; line = status.readLine()) {
        if (line.startsWith("PPid:")) {
          return Long.parseLong(line.substring("PPid:".length()).strip());
        }
      }
    } catch (IOException | NumberFormatException e) {
      // gone or unreadable: not a target
    }
    return -1;
  }

  private static long pidOf(String name) {
    for (int i = 0; i < name.length(); i++) {
      if (name.charAt(i) < '0' || name.charAt(i) > '9') {
        return -1;
      }
    }
    return name.isEmpty() || name.length() > 18 ? -1 : Long.parseLong(name);
  }

  private void exec() throws IOException, InterruptedException {
    long start = System.nanoTime();
    Process process =
        new ProcessBuilder("/bin/sh", "-c", onChange.command())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (!process.waitFor(EXEC_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      log.error(
          "on-change command did not finish within " + EXEC_TIMEOUT_SECONDS + " s and was killed");
      return;
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    String message =
        "on-change command exited with " + process.exitValue() + " after " + millis + " ms";
    if (process.exitValue() == 0) {
      log.info(message);
    } else {
      log.warn(message);
    }
  }
}
