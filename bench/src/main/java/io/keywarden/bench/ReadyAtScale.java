package io.keywarden.bench;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Load test: N ManagedSecrets created at once against one operator process, timed until all are
 * Ready. Usage: {@code ReadyAtScale [N] [clientThreads]} (defaults 1000 and 4). Starts a control
 * plane unless KEYWARDEN_TEST_CLUSTER_DIR or KEYWARDEN_TEST_KUBECONFIG names one.
 */
public final class ReadyAtScale {

  /** At least 10 minutes; 120 ms per secret beyond that, so 10,000 get 20 minutes. */
  private static final Duration GIVE_UP_MIN = Duration.ofMinutes(10);

  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration CLEANUP = Duration.ofMinutes(5);

  public static void main(String[] args) {
    Bench.exit(() -> benchmark(args));
  }

  private static boolean benchmark(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    try (OperatorSession s = OperatorSession.start("ready-at-scale", Map.of())) {
      boolean ok = run(s, count, threads);
      scrape(s.httpPort, s.operator.pid());
      Bench.deleteSecretsNamespace(s.client, s.secretsNs, CLEANUP);
      return ok;
    }
  }

  private static boolean run(OperatorSession session, int count, int threads) throws Exception {
    KubernetesClient client = session.client;
    String ns = session.secretsNs;
    long operatorPid = session.operator.pid();
    // BENCH_WARMUP=N: N secrets (warm-*) created and Ready before the measured burst, so that it
    // runs on a warmed-up JVM, as a long-running operator's would.
    int warmup = Integer.parseInt(Optional.ofNullable(System.getenv("BENCH_WARMUP")).orElse("0"));
    if (warmup > 0) {
      warmUp(client, ns, warmup);
    }
    // BENCH_JFR=1: a JFR recording (profile settings) from the first create to all Ready.
    Bench.JfrRecording recording =
        Bench.startJfr(
            operatorPid,
            "ready",
            io.keywarden.testcluster.RepositoryRoot.find()
                .resolve("bench/target/ready-at-scale-" + ns + ".jfr"),
            "the creates until all Ready");
    String loadBefore = Bench.loadAverage();
    List<Long> planePids = session.controlPlanePids();
    List<Long> planeBefore = planePids.stream().map(Bench::cpuTicks).toList();
    long[] machineBefore = Bench.machineTicks();
    long rssBeforeKiB = Bench.rssKiB(operatorPid);
    long cpuBefore = Bench.cpuTicks(operatorPid);
    Map<String, Long> threadsBefore = Bench.threadGroupTicks(operatorPid);
    Map<String, Instant> createdAt = new ConcurrentHashMap<>();
    Map<String, Instant> seenReadyAt = new ConcurrentHashMap<>();

    // Create while the main thread already polls.
    Instant start = Instant.now();
    CreateBurst burst =
        CreateBurst.start(
            client, ns, count, threads, Map.of(), name -> createdAt.put(name, Instant.now()));

    Duration createTime = null;
    Duration readyTime = null;
    long peakRssKiB = 0;
    long cpuAtReady = -1;
    Map<String, Long> threadsAtReady = Map.of();
    List<ManagedSecret> last = List.of();
    Duration giveUp = GIVE_UP_MIN;
    if (Duration.ofMillis(120L * count).compareTo(giveUp) > 0) {
      giveUp = Duration.ofMillis(120L * count);
    }
    Instant deadline = start.plus(giveUp);
    while (Instant.now().isBefore(deadline)) {
      if (createTime == null && burst.ended()) {
        burst.await(Duration.ZERO); // surfaces a failed create
        createTime = Duration.between(start, Instant.now());
        System.out.printf("created %d ManagedSecrets in %.1f s%n", count, seconds(createTime));
      }
      Instant polled = Instant.now();
      last = client.resources(ManagedSecret.class).inNamespace(ns).list().getItems();
      for (ManagedSecret ms : last) {
        if (measured(ms) && readyCondition(ms).isPresent()) {
          seenReadyAt.putIfAbsent(ms.getMetadata().getName(), polled);
        }
      }
      peakRssKiB = Math.max(peakRssKiB, Bench.rssKiB(operatorPid));
      if (createTime != null && seenReadyAt.size() == count) {
        readyTime = Duration.between(start, polled);
        cpuAtReady = Bench.cpuTicks(operatorPid);
        threadsAtReady = Bench.threadGroupTicks(operatorPid);
        break;
      }
      Thread.sleep(POLL.toMillis());
    }
    burst.cancel();
    long[] machineAfter = Bench.machineTicks();
    long planeTicks = 0;
    for (int i = 0; i < planePids.size(); i++) {
      planeTicks += Math.max(0, Bench.cpuTicks(planePids.get(i)) - planeBefore.get(i));
    }
    // A few seconds more: Events and status writes the operator still has queued count too.
    Thread.sleep(5000);
    long cpuSettled = Bench.cpuTicks(operatorPid);
    long rssEndKiB = Bench.rssKiB(operatorPid);
    recording.stop();
    // BENCH_HISTO=1: what the heap holds with every secret Ready (after a full GC: the live set).
    String histogram = null;
    if ("1".equals(System.getenv("BENCH_HISTO"))) {
      List<String> lines = Bench.jcmdOutput(operatorPid, "GC.class_histogram").lines().toList();
      histogram =
          String.join("\n", lines.subList(0, Math.min(23, lines.size())))
              + "\n"
              + lines.get(lines.size() - 1);
    }

    System.out.println();
    System.out.printf("N                          %d (client threads %d)%n", count, threads);
    System.out.printf(
        "time to create all         %s%n",
        createTime == null ? "did not finish" : String.format("%.1f s", seconds(createTime)));
    System.out.printf(
        "time to all Ready          %s%n",
        readyTime == null
            ? String.format(
                "NOT REACHED within %s: %d of %d Ready", giveUp, seenReadyAt.size(), count)
            : String.format(
                "%.1f s (first create to the poll that saw the last Ready; polls every %d ms)",
                seconds(readyTime), POLL.toMillis()));

    // Server-side latency: both timestamps have one-second resolution, so p50/p99 are +-1 s.
    List<Long> server = new ArrayList<>();
    for (ManagedSecret ms : last.stream().filter(ReadyAtScale::measured).toList()) {
      readyCondition(ms)
          .ifPresent(
              c ->
                  server.add(
                      Duration.between(
                              Instant.parse(ms.getMetadata().getCreationTimestamp()),
                              Instant.parse(c.getLastTransitionTime()))
                          .toMillis()));
    }
    List<Long> observed = new ArrayList<>();
    createdAt.forEach(
        (name, created) ->
            Optional.ofNullable(seenReadyAt.get(name))
                .ifPresent(
                    ready ->
                        observed.add(Math.max(0, Duration.between(created, ready).toMillis()))));
    System.out.printf(
        "create->Ready (server)     p50 %s  p99 %s  max %s  (Ready lastTransitionTime - creationTimestamp, 1 s resolution)%n",
        pct(server, 50), pct(server, 99), pct(server, 100));
    System.out.printf(
        "create->Ready (observed)   p50 %s  p99 %s  max %s  (create call returned -> first poll that saw Ready)%n",
        pct(observed, 50), pct(observed, 99), pct(observed, 100));
    System.out.printf(
        "operator RSS               %.0f MiB before the first create, %.0f MiB 5 s after all Ready"
            + " (+%.0f MiB), %.0f MiB peak while polling (VmRSS)%n",
        rssBeforeKiB / 1024.0,
        rssEndKiB / 1024.0,
        (rssEndKiB - rssBeforeKiB) / 1024.0,
        peakRssKiB / 1024.0);
    if (cpuAtReady >= 0) {
      double cpuSeconds = (cpuAtReady - cpuBefore) / 100.0;
      System.out.printf(
          "operator CPU               %.1f s (utime+stime) first create to all Ready = %.1f ms per"
              + " ManagedSecret; %.1f s including 5 s after%n",
          cpuSeconds, cpuSeconds * 1000 / count, (cpuSettled - cpuBefore) / 100.0);
    }
    if (cpuAtReady >= 0) {
      printThreadGroups(threadsBefore, threadsAtReady, cpuAtReady - cpuBefore);
    }
    double busy = machineAfter[0] - machineBefore[0];
    double total = machineAfter[1] - machineBefore[1];
    System.out.printf(
        "machine                    %.0f %% of %d CPUs busy during the run; control plane"
            + " (etcd, apiserver, controller-manager) %.1f CPU-s%n",
        total == 0 ? 0 : 100 * busy / total,
        Runtime.getRuntime().availableProcessors(),
        planeTicks / 100.0);
    System.out.printf(
        "load average               %s before, %s after%n", loadBefore, Bench.loadAverage());
    if (histogram != null) {
      System.out.println("live heap by class (jcmd GC.class_histogram), top 20:");
      System.out.println(histogram);
    }
    return readyTime != null;
  }

  /**
   * The cost of the metrics with every secret Ready: size and time of a /q/metrics scrape (the
   * per-object gauges are computed during it), how many series are Keywarden's, and the operator's
   * RSS before the first scrape and after the sixth: since the per-object series exist only while a
   * scrape runs, that difference is what serving the metrics costs in memory.
   */
  private static void scrape(int httpPort, long operatorPid) throws Exception {
    long rssBeforeKiB = Bench.rssKiB(operatorPid);
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpRequest request =
        java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + httpPort + "/q/metrics"))
            .build();
    List<Long> millis = new ArrayList<>();
    String body = "";
    for (int i = 0; i < 6; i++) {
      long started = System.nanoTime();
      body = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      millis.add((System.nanoTime() - started) / 1_000_000);
    }
    long series = body.lines().filter(l -> !l.startsWith("#")).count();
    long keywarden = body.lines().filter(l -> l.startsWith("keywarden_managedsecret_")).count();
    System.out.printf(
        "/q/metrics scrape          %d bytes, %d series (%d keywarden_managedsecret_*), first %d ms, median of 5 more %s%n",
        body.length(), series, keywarden, millis.get(0), pct(millis.subList(1, millis.size()), 50));
    long rssAfterKiB = Bench.rssKiB(operatorPid);
    System.out.printf(
        "operator RSS around scrapes %.0f MiB before the first, %.0f MiB after the sixth (%+.0f MiB)%n",
        rssBeforeKiB / 1024.0, rssAfterKiB / 1024.0, (rssAfterKiB - rssBeforeKiB) / 1024.0);
  }

  /**
   * Where the operator's CPU went, by thread group, first create to all Ready: JIT compilers and
   * the collector (not Java threads, so not in a JFR recording) next to reconcilers, event loops
   * and informers. Threads that ended meanwhile are only in the total.
   */
  private static void printThreadGroups(
      Map<String, Long> before, Map<String, Long> after, long totalTicks) {
    List<Map.Entry<String, Long>> spent = new ArrayList<>();
    long listed = 0;
    for (var e : after.entrySet()) {
      long ticks = e.getValue() - before.getOrDefault(e.getKey(), 0L);
      if (ticks > 0) {
        spent.add(Map.entry(e.getKey(), ticks));
        listed += ticks;
      }
    }
    spent.sort(Map.Entry.<String, Long>comparingByValue().reversed());
    StringBuilder line = new StringBuilder();
    for (var e : spent.subList(0, Math.min(12, spent.size()))) {
      line.append(String.format(" %s %.1f s,", e.getKey(), e.getValue() / 100.0));
    }
    System.out.printf(
        "operator CPU by thread     %s threads that ended meanwhile %.1f s%n",
        line, Math.max(0, totalTicks - listed) / 100.0);
  }

  private static boolean measured(ManagedSecret ms) {
    return ms.getMetadata().getName().startsWith("bench-");
  }

  private static void warmUp(KubernetesClient client, String ns, int count) throws Exception {
    Instant start = Instant.now();
    var resources =
        client.genericKubernetesResources("keywarden.io/v1alpha1", "ManagedSecret").inNamespace(ns);
    for (int i = 0; i < count; i++) {
      resources
          .resource(
              new GenericKubernetesResourceBuilder()
                  .withApiVersion("keywarden.io/v1alpha1")
                  .withKind("ManagedSecret")
                  .withNewMetadata()
                  .withName(String.format("warm-%05d", i))
                  .endMetadata()
                  .addToAdditionalProperties(
                      "spec", Map.of("generate", Map.of("passwordLength", 32)))
                  .build())
          .create();
    }
    Instant deadline = start.plus(GIVE_UP_MIN);
    while (Instant.now().isBefore(deadline)) {
      long ready =
          client.resources(ManagedSecret.class).inNamespace(ns).list().getItems().stream()
              .filter(ms -> readyCondition(ms).isPresent())
              .count();
      if (ready >= count) {
        System.out.printf(
            "warm-up: %d ManagedSecrets Ready in %.1f s%n",
            count, seconds(Duration.between(start, Instant.now())));
        Thread.sleep(5000); // the warm-up's Events and writes settle
        return;
      }
      Thread.sleep(POLL.toMillis());
    }
    throw new IllegalStateException("warm-up: not all " + count + " Ready within " + GIVE_UP_MIN);
  }

  private static Optional<Condition> readyCondition(ManagedSecret ms) {
    return ms.getStatus() == null
        ? Optional.empty()
        : ms.getStatus().getConditions().stream()
            .filter(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()))
            .findFirst();
  }

  /**
   * Deletes the load while the operator still runs: its finalizer removes each secret's ciphertext.
   */
  private static String pct(List<Long> millis, int percentile) {
    if (millis.isEmpty()) {
      return "n/a";
    }
    List<Long> sorted = new ArrayList<>(millis);
    Collections.sort(sorted);
    int index = Math.max(0, (int) Math.ceil(percentile / 100.0 * sorted.size()) - 1);
    return String.format("%.1f s", sorted.get(index) / 1000.0);
  }

  private static double seconds(Duration d) {
    return d.toMillis() / 1000.0;
  }
}
