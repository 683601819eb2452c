package io.keywarden.operator.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keywarden.testcluster.QuarkusProcess;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A private Prometheus from the Debian package (.ci/run installs it), on a free loopback port with
 * its data in a temporary directory removed on close, scraping one target every second and
 * evaluating the given rules as often.
 */
public final class PrometheusServer implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final Process process;
  private final int port;
  private final HttpClient http = HttpClient.newHttpClient();

  private PrometheusServer(Path dir, Process process, int port) {
    this.dir = dir;
    this.process = process;
    this.port = port;
  }

  /**
   * @param target host:port serving /q/metrics
   * @param rules a Prometheus rules file's text
   */
  public static PrometheusServer start(String target, String rules) throws Exception {
    Path binary = Path.of("/usr/bin/prometheus");
    if (!Files.isExecutable(binary)) {
      throw new IllegalStateException("no Prometheus: apt-get install prometheus (.ci/run does)");
    }
    Path dir = Files.createTempDirectory("keywarden-prometheus");
    Files.writeString(dir.resolve("rules.yaml"), rules);
    Files.writeString(
        dir.resolve("prometheus.yaml"),
        """
        global: {scrape_interval: 1s, evaluation_interval: 1s}
        rule_files: [rules.yaml]
        scrape_configs:
          - job_name: keywarden-operator
            metrics_path: /q/metrics
            static_configs: [{targets: ['%s'], labels: {pod: operator-0}}]
        """
            .formatted(target));
    int port = QuarkusProcess.freePort();
    Process process =
        new ProcessBuilder(
                binary.toString(),
                "--config.file=" + dir.resolve("prometheus.yaml"),
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
    PrometheusServer server = new PrometheusServer(dir, process, port);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!server.ready()) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        String log = Files.readString(dir.resolve("prometheus.log"));
        server.close();
        throw new IllegalStateException("Prometheus did not start:\n" + log);
      }
      Thread.sleep(200);
    }
    return server;
  }

  private boolean ready() {
    try {
      return http.send(
                  HttpRequest.newBuilder(URI.create(base() + "/-/ready")).build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  /**
   * An instant query now; returns {@code data.result}. Fails with Prometheus's error for a query it
   * refuses.
   */
  public JsonNode query(String promql) throws Exception {
    return get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8))
        .path("data")
        .path("result");
  }

  /** The scrape targets with their health and last error: {@code data.activeTargets}. */
  public JsonNode targets() throws Exception {
    return get("/api/v1/targets").path("data").path("activeTargets");
  }

  /** The loaded rule groups with each rule's query and state: {@code data}. */
  public JsonNode rules() throws Exception {
    return get("/api/v1/rules").path("data");
  }

  /** The alerts of the loaded rules, pending or firing: {@code data.alerts}. */
  public JsonNode alerts() throws Exception {
    return get("/api/v1/alerts").path("data").path("alerts");
  }

  private JsonNode get(String path) throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode body = JSON.readTree(response.body());
    if (response.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
      throw new AssertionError(path + ": " + response.statusCode() + " " + response.body());
    }
    return body;
  }

  @Override
  public void close() throws IOException {
    process.destroy();
    try {
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
