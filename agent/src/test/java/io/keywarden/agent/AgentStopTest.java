package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar as its own process, stopped the way kubelet stops it: SIGTERM is its normal end, so
 * it exits 0 (kubelet shows {@code Completed}, not {@code Error} with 143).
 */
class AgentStopTest {

  @TempDir Path dir;

  private FakeSecretApi server;
  private Process agent;

  @BeforeEach
  void start() throws Exception {
    server = FakeSecretApi.start();
    server.expectToken("token-1");
    server.put("db", "{\"password\":\"pw-0\"}");
    Path out = Files.createDirectory(dir.resolve("out"));
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Agent.class.getName())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("log").toFile());
    Map<String, String> env = builder.environment();
    env.put("KEYWARDEN_API_URL", server.url());
    env.put("KEYWARDEN_ALLOW_INSECURE_HTTP", "true");
    env.put("KEYWARDEN_TOKEN_FILE", Files.writeString(dir.resolve("token"), "token-1").toString());
    env.put("KEYWARDEN_NAMESPACE", "shop");
    env.put("KEYWARDEN_OUTPUT_DIR", out.toString());
    env.put("KEYWARDEN_FILES", "[{\"file\":\"password\",\"secret\":\"db\",\"key\":\"password\"}]");
    agent = builder.start();
    Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
    while (!Files.exists(out.resolve("password")) && Instant.now().isBefore(deadline)) {
      assertThat(agent.isAlive()).as("agent running; its log:%n%s", log()).isTrue();
      Thread.sleep(50);
    }
    assertThat(out.resolve("password")).hasContent("pw-0");
  }

  @AfterEach
  void stop() {
    if (agent != null && agent.isAlive()) {
      agent.destroyForcibly();
    }
    server.close();
  }

  private String log() throws Exception {
    return Files.readString(dir.resolve("log"), StandardCharsets.UTF_8);
  }

  @Test
  void sigtermEndsTheSidecarWithExitCodeZero() throws Exception {
    agent.destroy(); // SIGTERM

    assertThat(agent.waitFor(30, TimeUnit.SECONDS)).as("stopped within 30 s").isTrue();
    assertThat(agent.exitValue()).as("exit code; log:%n%s", log()).isZero();
    assertThat(log()).contains("INFO stopping (SIGTERM or SIGINT)");
  }

  @Test
  void sigintEndsTheSidecarWithExitCodeZero() throws Exception {
    // A process started in the background by a non-interactive shell (`cmd &`) ignores SIGINT, its
    // children inherit that, and a JVM that starts with SIGINT ignored installs no handler for it:
    // the signal cannot reach the agent at all, whatever the agent does.
    assumeFalse(sigintIgnored(), "SIGINT is ignored in this process tree (started with `&`?)");
    new ProcessBuilder("kill", "-INT", Long.toString(agent.pid())).start().waitFor();

    assertThat(agent.waitFor(30, TimeUnit.SECONDS)).as("stopped within 30 s").isTrue();
    assertThat(agent.exitValue()).as("exit code; log:%n%s", log()).isZero();
  }

  /** Whether SIGINT (2) is in this process's ignored-signals mask, as Linux reports it. */
  private static boolean sigintIgnored() throws Exception {
    Path status = Path.of("/proc/self/status");
    if (!Files.exists(status)) {
      return false;
    }
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("SigIgn:")) {
        return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << 1)) != 0;
      }
    }
    return false;
  }
}
