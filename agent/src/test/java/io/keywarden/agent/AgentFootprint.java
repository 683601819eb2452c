package io.keywarden.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * Measures the agent as a pod would run it: the real jar started through {@code
 * agent/bin/keywarden-agent} (the documented JVM flags) against {@link FakeSecretApi}, over HTTPS
 * with a private CA as in a cluster, and over plain HTTP for comparison. Reports (a) process start
 * to the first file readable, (b) steady-state RSS ({@code VmRSS} of the JVM) and (c) the latency
 * from a new version on the server to the new content readable in the file, p50/p99 over a series
 * of changes. Build first ({@code ./mvnw -B -o -q install -pl agent}), then from the repository
 * root:
 *
 * <pre>
 * agent/bin/keywarden-agent --create-cds-archive
 * java -cp agent/target/test-classes:agent/target/classes io.keywarden.agent.AgentFootprint [runs] [changes]
 * </pre>
 */
public final class AgentFootprint {

  private static final Path LAUNCHER = Path.of("agent", "bin", "keywarden-agent");
  private static final String FILES =
      "[{\"file\":\"password\",\"secret\":\"db\",\"key\":\"password\"},"
          + "{\"file\":\"db.env\",\"secret\":\"db\",\"format\":\"env\"},{\"file\":\"api.key\",\"secret\":\"api-key\"}]";

  private AgentFootprint() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("rss")) {
      rss(
          args.length > 1 ? Integer.parseInt(args[1]) : 20,
          args.length > 2 ? Integer.parseInt(args[2]) : 10);
      return;
    }
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int changes = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    if (!Files.isExecutable(LAUNCHER)) {
      throw new IllegalStateException("run from the repository root: " + LAUNCHER + " not found");
    }
    TestTls tls = TestTls.get();
    System.out.printf(
        "keywarden-agent footprint: %s, %d cores, java %s%n%n",
        LAUNCHER, Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));

    System.out.printf(
        "(a) process start to first file readable, %d runs each (after 1 warm-up run)%n", runs);
    System.out.println(
        "| transport | AppCDS archive | min ms | median ms | max ms | of which after main(), median ms |");
    System.out.println("|---|---|---|---|---|---|");
    for (boolean https : new boolean[] {true, false}) {
      for (boolean cds : new boolean[] {true, false}) {
        try (FakeSecretApi server =
            https ? FakeSecretApi.startHttps(tls.serverContext()) : FakeSecretApi.start()) {
          seed(server);
          List<Long> external = new ArrayList<>();
          List<Long> internal = new ArrayList<>();
          for (int run = 0; run <= runs; run++) {
            try (Agent agent = Agent.start(server, https ? tls.caPem() : null, cds)) {
              long millis = agent.awaitFirstFile();
              if (run > 0) {
                external.add(millis);
                internal.add(agent.selfReportedStartupMillis());
              }
            }
          }
          Collections.sort(external);
          Collections.sort(internal);
          System.out.printf(
              "| %s | %s | %d | %d | %d | %d |%n",
              https ? "HTTPS, private CA" : "HTTP",
              cds ? "yes" : "no",
              external.get(0),
              median(external),
              external.get(external.size() - 1),
              median(internal));
        }
      }
    }

    System.out.printf(
        "%n(b) RSS and (c) change-to-file latency over %d changes, HTTPS, AppCDS, refresh watch%n",
        changes);
    try (FakeSecretApi server = FakeSecretApi.startHttps(tls.serverContext())) {
      seed(server);
      try (Agent agent = Agent.start(server, tls.caPem(), true)) {
        agent.awaitFirstFile();
        Thread.sleep(1000);
        String rssAfterStart = agent.status("VmRSS");
        List<Double> latencies = new ArrayList<>();
        for (int i = 1; i <= changes; i++) {
          Thread.sleep(100);
          String password = "pw-" + i;
          long start = System.nanoTime();
          server.put("db", db(password));
          agent.awaitContent("password", password);
          latencies.add((System.nanoTime() - start) / 1e6);
        }
        Thread.sleep(5000);
        Collections.sort(latencies);
        System.out.printf(
            "RSS 1 s after the first write: %s; after %d changes and 5 s idle: VmRSS %s (RssAnon %s, RssFile %s),"
                + " VmHWM %s, threads %s%n",
            rssAfterStart,
            changes,
            agent.status("VmRSS"),
            agent.status("RssAnon"),
            agent.status("RssFile"),
            agent.status("VmHWM"),
            agent.status("Threads"));
        System.out.printf(
            Locale.ROOT,
            "change-to-file latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d)%n",
            percentile(latencies, 50),
            percentile(latencies, 99),
            latencies.get(latencies.size() - 1),
            latencies.size());
        System.out.printf(
            "agent log lines: %d, of which WARN/ERROR: %d%n",
            agent.log().size(),
            agent.log().stream()
                .filter(line -> line.contains(" WARN ") || line.contains(" ERROR "))
                .count());
      }
    }
  }

  /**
   * Only the memory figure, for comparing JVM options: one agent (HTTPS, AppCDS, watch) with the
   * environment's {@code KEYWARDEN_AGENT_JAVA_OPTS} / {@code JAVA_HOME} / {@code
   * KEYWARDEN_AGENT_CDS}, {@code changes} changes, then {@code idleSeconds} with the long-polls
   * open; prints /proc status and the resident memory by mapping.
   */
  private static void rss(int changes, int idleSeconds) throws Exception {
    TestTls tls = TestTls.get();
    try (FakeSecretApi server = FakeSecretApi.startHttps(tls.serverContext())) {
      seed(server);
      try (Agent agent = Agent.start(server, tls.caPem(), true)) {
        long firstFile = agent.awaitFirstFile();
        for (int i = 1; i <= changes; i++) {
          Thread.sleep(100);
          server.put("db", db("pw-" + i));
          agent.awaitContent("password", "pw-" + i);
        }
        Thread.sleep(idleSeconds * 1000L);
        System.out.printf(
            "java opts: %s; JAVA_HOME %s%n",
            System.getenv().getOrDefault("KEYWARDEN_AGENT_JAVA_OPTS", ""),
            System.getenv().getOrDefault("JAVA_HOME", "(PATH)"));
        System.out.printf(
            "first file %d ms; after %d changes and %d s idle: VmRSS %s (RssAnon %s, RssFile %s), VmHWM %s,"
                + " threads %s%n",
            firstFile,
            changes,
            idleSeconds,
            agent.status("VmRSS"),
            agent.status("RssAnon"),
            agent.status("RssFile"),
            agent.status("VmHWM"),
            agent.status("Threads"));
        agent
            .smapsSummary()
            .forEach((mapping, kb) -> System.out.printf("  %8d kB  %s%n", kb, mapping));
        if (System.getenv()
            .getOrDefault("KEYWARDEN_AGENT_JAVA_OPTS", "")
            .contains("NativeMemoryTracking")) {
          // The JDK's jcmd attaches to the agent's JVM, whatever runtime that is.
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                  Long.toString(agent.process.pid()),
                  "VM.native_memory",
                  "summary")
              .inheritIO()
              .start()
              .waitFor();
        }
      }
    }
  }

  private static void seed(FakeSecretApi server) {
    server.put("db", db("pw-0"));
    server.put("api-key", "k-123");
  }

  private static String db(String password) {
    return "{\"user\":\"app\",\"password\":\""
        + password
        + "\",\"host\":\"db.shop.svc\",\"port\":5432}";
  }

  private static long median(List<Long> sorted) {
    return sorted.get((sorted.size() - 1) / 2);
  }

  // Nearest rank.
  private static double percentile(List<Double> sorted, int percent) {
    int rank = (int) Math.ceil(percent / 100.0 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }

  /** One agent process started through the launcher, with its own output directory. */
  private static final class Agent implements AutoCloseable {
    private final Process process;
    private final Path dir;
    private final Path out;
    private final Path stderr;
    private final long startNanos;

    private Agent(Process process, Path dir, long startNanos) {
      this.process = process;
      this.dir = dir;
      this.out = dir.resolve("out");
      this.stderr = dir.resolve("stderr");
      this.startNanos = startNanos;
    }

    static Agent start(FakeSecretApi server, String caPem, boolean cds) throws IOException {
      Path dir = Files.createTempDirectory("keywarden-footprint");
      Files.createDirectory(dir.resolve("out"));
      Path token = Files.writeString(dir.resolve("token"), "footprint-token");
      ProcessBuilder builder =
          new ProcessBuilder(LAUNCHER.toString())
              .redirectOutput(dir.resolve("stdout").toFile())
              .redirectError(dir.resolve("stderr").toFile());
      Map<String, String> env = builder.environment();
      env.put("KEYWARDEN_API_URL", server.url());
      env.put("KEYWARDEN_ALLOW_INSECURE_HTTP", Boolean.toString(caPem == null));
      if (caPem != null) {
        env.put("KEYWARDEN_API_CA", caPem);
      }
      env.put("KEYWARDEN_TOKEN_FILE", token.toString());
      env.put("KEYWARDEN_NAMESPACE", "shop");
      env.put("KEYWARDEN_OUTPUT_DIR", dir.resolve("out").toString());
      env.put("KEYWARDEN_FILES", FILES);
      env.put("KEYWARDEN_FILE_MODE", "0440");
      if (!cds) {
        env.put("KEYWARDEN_AGENT_CDS", dir.resolve("no-archive.jsa").toString());
      }
      long startNanos = System.nanoTime();
      return new Agent(builder.start(), dir, startNanos);
    }

    long awaitFirstFile() throws IOException {
      awaitContent("password", "pw-0");
      return (System.nanoTime() - startNanos) / 1_000_000;
    }

    void awaitContent(String file, String expected) throws IOException {
      Path path = out.resolve(file);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        try {
          if (Files.readString(path).equals(expected)) {
            return;
          }
        } catch (IOException e) {
          // not there yet
        }
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IOException(
              "agent did not write "
                  + expected
                  + " to "
                  + file
                  + "; its log:\n"
                  + String.join("\n", log()));
        }
        LockSupport.parkNanos(100_000);
      }
    }

    long selfReportedStartupMillis() throws IOException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (System.nanoTime() < deadline) {
        for (String line : log()) {
          int end = line.indexOf(" ms after main started");
          if (end > 0) {
            return Long.parseLong(line.substring(line.lastIndexOf('(', end) + 1, end));
          }
        }
        LockSupport.parkNanos(1_000_000);
      }
      return -1;
    }

    String status(String field) throws IOException {
      for (String line :
          Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith(field + ":")) {
          return line.substring(field.length() + 1).strip();
        }
      }
      return "?";
    }

    /** Rss by mapping from /proc/PID/smaps, largest first; anonymous mappings summed as one. */
    Map<String, Long> smapsSummary() throws IOException {
      Map<String, Long> rss = new java.util.HashMap<>();
      String mapping = null;
      for (String line :
          Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "smaps"))) {
        String[] fields = line.trim().split("\\s+");
        if (fields.length >= 5 && fields[0].contains("-") && !fields[0].endsWith(":")) {
          mapping = fields.length >= 6 ? fields[5] : "[anonymous]";
        } else if (fields[0].equals("Rss:") && mapping != null) {
          rss.merge(mapping, Long.parseLong(fields[1]), Long::sum);
        }
      }
      Map<String, Long> sorted = new java.util.LinkedHashMap<>();
      rss.entrySet().stream()
          .filter(e -> e.getValue() >= 256)
          .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
          .forEach(e -> sorted.put(e.getKey(), e.getValue()));
      return sorted;
    }

    List<String> log() {
      try {
        return Files.readAllLines(stderr, StandardCharsets.UTF_8);
      } catch (IOException e) {
        return List.of();
      }
    }

    @Override
    public void close() throws IOException, InterruptedException {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
      try (Stream<Path> paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      }
    }
  }
}
