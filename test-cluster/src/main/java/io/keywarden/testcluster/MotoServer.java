package io.keywarden.testcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private moto server (a local implementation of the AWS APIs, KMS and STS among them) on a free
 * loopback port, started for a test and stopped after it. moto keeps everything in memory, so
 * stopping it loses every key: to simulate an outage, put a {@link TcpProxy} in front of it. The
 * server comes from PyPI ({@code moto[server]}) in a venv that {@code .ci/run} creates; a missing
 * server fails the test with what to run, it never skips it.
 */
public final class MotoServer implements AutoCloseable {

  private final Process process;
  private final int port;

  private MotoServer(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** The moto_server executable: KEYWARDEN_MOTO_SERVER, else the venv under the Keywarden cache. */
  public static Path executable() {
    String explicit = System.getenv("KEYWARDEN_MOTO_SERVER");
    if (explicit != null && !explicit.isBlank()) {
      return Path.of(explicit);
    }
    String cache = System.getenv("KEYWARDEN_CACHE");
    if (cache == null || cache.isBlank()) {
      String xdg = System.getenv("XDG_CACHE_HOME");
      cache =
          (xdg == null || xdg.isBlank()
                  ? Path.of(System.getProperty("user.home"), ".cache")
                  : Path.of(xdg))
              .resolve("keywarden")
              .toString();
    }
    return Path.of(cache, "moto", "bin", "moto_server");
  }

  /** Starts moto_server on 127.0.0.1 and waits until it answers; its output goes to {@code log}. */
  public static MotoServer start(Path log) {
    Path executable = executable();
    if (!Files.isExecutable(executable)) {
      throw new IllegalStateException(
          "moto_server is missing at "
              + executable
              + ": run .ci/run, or install it with"
              + " `python3 -m venv "
              + executable.getParent().getParent()
              + " && "
              + executable.getParent()
              + "/pip install 'moto[server]'` (or set KEYWARDEN_MOTO_SERVER)");
    }
    int port = QuarkusProcess.freePort();
    Process process;
    try {
      Files.createDirectories(log.getParent());
      process =
          new ProcessBuilder(
                  List.of(executable.toString(), "-H", "127.0.0.1", "-p", Integer.toString(port)))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + executable, e);
    }
    MotoServer server = new MotoServer(process, port);
    // A test JVM that dies must not leave the server behind.
    Runtime.getRuntime().addShutdownHook(new Thread(server::close));
    server.awaitListening(Duration.ofSeconds(60), log);
    return server;
  }

  public int port() {
    return port;
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  private void awaitListening(Duration timeout, Path log) {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "moto_server exited with " + process.exitValue() + "; see " + log);
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException e) {
        sleep(200);
      }
    }
    close();
    throw new IllegalStateException(
        "moto_server did not listen on port " + port + " within " + timeout + "; see " + log);
  }

  @Override
  public void close() {
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
