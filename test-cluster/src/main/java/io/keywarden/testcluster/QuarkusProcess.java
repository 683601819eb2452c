package io.keywarden.testcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A Keywarden Quarkus application (operator or injector) run as a real OS process against the test
 * control plane, exactly as users run the jar: so tests can stop it, kill it with SIGKILL and start
 * it again.
 */
public final class QuarkusProcess implements AutoCloseable {

  private final Path jar;
  private final Map<String, String> env;
  private final Path log;
  private final int httpPort;
  private Process process;

  private QuarkusProcess(Path jar, Map<String, String> env, Path log, int httpPort) {
    this.jar = jar;
    this.env = env;
    this.log = log;
    this.httpPort = httpPort;
  }

  /**
   * @param module the Maven module (operator, injector) whose target/quarkus-app/quarkus-run.jar to
   *     run
   * @param env extra environment, e.g. POD_NAMESPACE; a KUBECONFIG here runs the app under another
   *     identity (a ServiceAccount token) instead of the cluster admin
   */
  public static QuarkusProcess of(TestCluster cluster, String module, Map<String, String> env) {
    Path root = RepositoryRoot.find();
    Path jar = root.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
    if (!Files.exists(jar)) {
      throw new IllegalStateException(
          jar + " is missing: integration tests run after `mvn package` (use make test)");
    }
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("KUBECONFIG", cluster.controlPlane().kubeconfig().toString());
    int port = freePort();
    all.put("QUARKUS_HTTP_PORT", Integer.toString(port));
    Path log = root.resolve(module).resolve("target/it-" + module + "-" + port + ".log");
    return new QuarkusProcess(jar, Map.copyOf(all), log, port);
  }

  /**
   * A TCP port nothing listens on now, for a process to bind later, chosen below the kernel's
   * ephemeral range ({@code net.ipv4.ip_local_port_range}). A port from that range, as {@code
   * ServerSocket(0)} hands out, can meanwhile become the local end of any outgoing connection on
   * the machine; a fixture that keeps its API port across operator restarts then failed to bind it
   * ("Address already in use", seen in CI). Also below Kubernetes' NodePort range. Falls back to
   * {@code ServerSocket(0)} when the range leaves no room below it.
   */
  public static int freePort() {
    int low = 20_000;
    // Below Kubernetes' NodePort range (30000-32767) too: the test node's kube-proxy owns those.
    int high = Math.min(ephemeralRangeStart(), 30_000) - 1;
    for (int attempt = 0; high > low && attempt < 200; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(low, high + 1);
      if (bindable(port)) {
        return port;
      }
    }
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first port of the ephemeral range; Linux's default (32768) when it cannot be read. */
  static int ephemeralRangeStart() {
    // Read as a stream: Files.readString trusts the size /proc reports (0) and returned "3".
    try (var in = Files.newInputStream(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
      String range = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
      return Integer.parseInt(range.trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }

  private static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  public int httpPort() {
    return httpPort;
  }

  public Path log() {
    return log;
  }

  /** Starts the process and waits until it is ready (/q/health/ready answers 200). */
  public synchronized QuarkusProcess start() {
    return start("/q/health/ready");
  }

  /**
   * Starts the process and waits only until it is live (/q/health/live answers 200): for tests of a
   * process that is meant not to be ready, e.g. an operator started while its KMS is down.
   */
  public synchronized QuarkusProcess startLive() {
    return start("/q/health/live");
  }

  /** GET a path of the plain HTTP port (health, metrics): status and body. */
  public HttpResponse<String> http(String path) {
    try {
      return HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(2))
          .build()
          .send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private QuarkusProcess start(String awaitedPath) {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("already running");
    }
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC",
                // C1 only: a test's operator lives a minute or two, too short for C2's compiles to
                // pay back, and they took a third of a test run's CPU on two cores.
                "-XX:TieredStopAtLevel=1",
                "-Xmx256m",
                "-jar",
                jar.toString()));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().putAll(env);
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      // Generous: a loaded 2-core machine has been seen to need 99 s for a cold start.
      awaitHealthy(awaitedPath, Duration.ofSeconds(180));
    } catch (RuntimeException e) {
      // Nobody gets a handle to stop it otherwise: a test that fails here must not leave a
      // process behind that keeps reconciling and holding ports.
      process.destroyForcibly();
      throw e;
    }
    return this;
  }

  private void awaitHealthy(String path, Duration timeout) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    URI ready = URI.create("http://127.0.0.1:" + httpPort + path);
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            jar.getFileName() + " exited with " + process.exitValue() + "; see " + log);
      }
      try {
        if (http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode()
            == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      sleep(200);
    }
    throw new IllegalStateException(
        jar + ": " + path + " not 200 within " + timeout + "; see " + log);
  }

  /** Graceful stop (SIGTERM), as Kubernetes stops a pod. */
  public synchronized void stop() {
    if (process != null && process.isAlive()) {
      process.destroy();
      waitFor();
    }
  }

  /** SIGKILL: the process gets no chance to finish anything, as in a node crash or OOM kill. */
  public synchronized void kill() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      waitFor();
    }
  }

  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  private void waitFor() {
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public String logText() {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop();
  }
}
