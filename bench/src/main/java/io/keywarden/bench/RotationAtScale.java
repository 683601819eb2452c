package io.keywarden.bench;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.keywarden.api.v1alpha1.ManagedSecret;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load test: N ManagedSecrets (label app=bench) made Ready, then ONE RotationSchedule with a
 * selector over all of them and rotateImmediately, so that all N fall due together. Times until
 * every secret has status.lastRotatedAt and status.previousVersionId, and reads the operator's CPU
 * and RSS and the apiserver's apiserver_request_total around the rotation phase. Usage: {@code
 * RotationAtScale [N] [clientThreads]} (defaults 1000 and 4). Starts a control plane unless
 * KEYWARDEN_TEST_CLUSTER_DIR or KEYWARDEN_TEST_KUBECONFIG names one.
 */
public final class RotationAtScale {

  private static final Duration GIVE_UP = Duration.ofMinutes(10);
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration CLEANUP = Duration.ofMinutes(5);
  private static final Pattern SAMPLE =
      Pattern.compile("^apiserver_request_total\\{([^}]*)\\}\\s+(\\S+)");
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

  public static void main(String[] args) {
    Bench.exit(() -> benchmark(args));
  }

  private static boolean benchmark(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    try (OperatorSession s =
        OperatorSession.start(
            "rotation-at-scale", Map.of("KEYWARDEN_ROTATION_MINIMUM_INTERVAL", "1m"))) {
      boolean ok =
          createAndWaitReady(s.client, s.secretsNs, count, threads)
              && rotate(s.client, s.secretsNs, count, s.operator.pid());
      Bench.deleteSecretsNamespace(s.client, s.secretsNs, CLEANUP);
      return ok;
    }
  }

  private static boolean createAndWaitReady(
      KubernetesClient client, String ns, int count, int threads) throws Exception {
    Instant start = Instant.now();
    CreateBurst burst =
        CreateBurst.start(client, ns, count, threads, Map.of("app", "bench"), name -> {});
    if (!burst.await(GIVE_UP)) {
      System.out.println("creates did not finish in time");
      return false;
    }
    System.out.printf(
        "created %d ManagedSecrets in %.1f s%n",
        count, Bench.seconds(Duration.between(start, Instant.now())));
    Instant deadline = start.plus(GIVE_UP);
    long ready = 0;
    while (Instant.now().isBefore(deadline)) {
      ready =
          client.resources(ManagedSecret.class).inNamespace(ns).list().getItems().stream()
              .filter(RotationAtScale::isReady)
              .count();
      if (ready == count) {
        System.out.printf(
            "all %d Ready %.1f s after the first create%n",
            count, Bench.seconds(Duration.between(start, Instant.now())));
        return true;
      }
      Thread.sleep(POLL.toMillis());
    }
    System.out.printf("only %d of %d Ready within %s; not rotating%n", ready, count, GIVE_UP);
    return false;
  }

  private static boolean rotate(KubernetesClient client, String ns, int count, long pid)
      throws Exception {
    // Let the Ready phase's tail (status patches, requeues) settle so the counters measure
    // rotation.
    Thread.sleep(5000);
    Map<String, Double> before = requestCounters(client);
    long cpuBefore = Bench.cpuTicks(pid);
    long rssBefore = Bench.rssKiB(pid);
    long peakRss = rssBefore;
    int ownRequests = 0;

    GenericKubernetesResource schedule =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("keywarden.io/v1alpha1")
            .withKind("RotationSchedule")
            .withNewMetadata()
            .withName("bench-all")
            .endMetadata()
            .addToAdditionalProperties(
                "spec",
                Map.of(
                    "selector",
                    Map.of("matchLabels", Map.of("app", "bench")),
                    "schedule",
                    "rate(1 day)",
                    "rotateImmediately",
                    true,
                    "strategy",
                    Map.of("type", "generate")))
            .build();
    Instant start = Instant.now();
    client
        .genericKubernetesResources("keywarden.io/v1alpha1", "RotationSchedule")
        .inNamespace(ns)
        .resource(schedule)
        .create();
    ownRequests++;

    Instant deadline = start.plus(GIVE_UP);
    Duration total = null;
    Duration first = null;
    List<ManagedSecret> last = List.of();
    int done = 0;
    while (Instant.now().isBefore(deadline)) {
      Instant polled = Instant.now();
      last = client.resources(ManagedSecret.class).inNamespace(ns).list().getItems();
      ownRequests++;
      done = (int) last.stream().filter(RotationAtScale::isRotated).count();
      peakRss = Math.max(peakRss, Bench.rssKiB(pid));
      if (first == null && done > 0) {
        first = Duration.between(start, polled);
      }
      if (done == count) {
        total = Duration.between(start, polled);
        break;
      }
      Thread.sleep(POLL.toMillis());
    }
    long cpuAfter = Bench.cpuTicks(pid);
    long rssAfter = Bench.rssKiB(pid);
    Map<String, Double> after = requestCounters(client);

    // Server-side: lastRotatedAt relative to the schedule's creation (1 s resolution).
    GenericKubernetesResource created =
        client
            .genericKubernetesResources("keywarden.io/v1alpha1", "RotationSchedule")
            .inNamespace(ns)
            .withName("bench-all")
            .get();
    Instant scheduleCreated = Instant.parse(created.getMetadata().getCreationTimestamp());
    List<Long> server = new ArrayList<>();
    for (ManagedSecret ms : last) {
      if (isRotated(ms)) {
        server.add(
            Duration.between(scheduleCreated, Instant.parse(ms.getStatus().getLastRotatedAt()))
                .toMillis());
      }
    }
    Collections.sort(server);

    double cpuSeconds = (cpuAfter - cpuBefore) / 100.0;
    System.out.println();
    System.out.printf("N                           %d%n", count);
    System.out.printf(
        "time to all rotated         %s%n",
        total == null
            ? String.format("NOT REACHED within %s: %d of %d rotated", GIVE_UP, done, count)
            : String.format(
                "%.1f s (RotationSchedule create -> the poll that saw the last rotation; polls every %d ms)",
                Bench.seconds(total), POLL.toMillis()));
    System.out.printf(
        "time to first rotated       %s%n",
        first == null ? "n/a" : String.format("%.1f s", Bench.seconds(first)));
    if (total != null) {
      System.out.printf(
          "throughput                  %.1f rotations/s%n", count / Bench.seconds(total));
    }
    System.out.printf(
        "lastRotatedAt - created     p50 %s  p99 %s  max %s  (server timestamps, 1 s resolution)%n",
        pct(server, 50), pct(server, 99), pct(server, 100));
    System.out.printf(
        "operator CPU                %.1f s during the rotation phase (utime+stime), %.2f ms per rotation%n",
        cpuSeconds, done == 0 ? Double.NaN : cpuSeconds * 1000 / done);
    System.out.printf(
        "operator RSS                %.0f MiB before, %.0f MiB peak, %.0f MiB after (VmRSS)%n",
        rssBefore / 1024.0, peakRss / 1024.0, rssAfter / 1024.0);

    Map<String, Double> delta = new TreeMap<>();
    after.forEach(
        (k, v) -> {
          double d = v - before.getOrDefault(k, 0.0);
          if (d > 0) {
            delta.put(k, d);
          }
        });
    double all = delta.values().stream().mapToDouble(Double::doubleValue).sum();
    int rotations = Math.max(done, 1);
    System.out.printf(
        "apiserver requests          %.0f in total during the phase (apiserver_request_total delta), %.2f per rotation%n",
        all, all / rotations);
    System.out.printf(
        "  minus the bench's own     %d (1 create + %d list polls) -> %.0f, %.2f per rotation%n",
        ownRequests, ownRequests - 1, all - ownRequests, (all - ownRequests) / rotations);
    Map<String, Double> byVerbResource = new TreeMap<>();
    delta.forEach(
        (k, v) -> {
          String[] p = k.split("\\|", -1); // group|resource|subresource|verb|code
          if (p[0].equals("keywarden.io")
              || p[1].equals("secrets")
              || p[1].equals("events")
              || p[1].equals("leases")) {
            String key =
                String.format(
                    "%-7s %s%s%s",
                    p[3], p[0].isEmpty() ? "" : p[0] + "/", p[1], p[2].isEmpty() ? "" : "/" + p[2]);
            byVerbResource.merge(key, v, Double::sum);
          } else {
            byVerbResource.merge(
                "(other) " + p[3] + " " + (p[1].isEmpty() ? "non-resource" : p[1]), v, Double::sum);
          }
        });
    System.out.println("  by verb and resource (delta, per rotation):");
    byVerbResource.forEach(
        (k, v) -> System.out.printf("    %-55s %7.0f  %6.2f%n", k, v, v / rotations));
    Map<String, Double> byCode = new TreeMap<>();
    delta.forEach((k, v) -> byCode.merge(k.substring(k.lastIndexOf('|') + 1), v, Double::sum));
    System.out.println("  by code: " + byCode);
    return total != null;
  }

  /**
   * apiserver_request_total from the kube-apiserver's /metrics, keyed
   * group|resource|subresource|verb|code.
   */
  private static Map<String, Double> requestCounters(KubernetesClient client) throws Exception {
    String url = client.getMasterUrl().toString().replaceAll("/+$", "") + "/metrics";
    HttpResponse<String> response =
        client
            .getHttpClient()
            .sendAsync(
                client.getHttpClient().newHttpRequestBuilder().uri(url).build(), String.class)
            .get(30, TimeUnit.SECONDS);
    if (response.code() != 200) {
      throw new IllegalStateException("GET " + url + ": HTTP " + response.code());
    }
    Map<String, Double> counters = new HashMap<>();
    for (String line : response.body().split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (!m.find()) {
        continue;
      }
      Map<String, String> labels = new HashMap<>();
      Matcher l = LABEL.matcher(m.group(1));
      while (l.find()) {
        labels.put(l.group(1), l.group(2));
      }
      String key =
          String.join(
              "|",
              labels.getOrDefault("group", ""),
              labels.getOrDefault("resource", ""),
              labels.getOrDefault("subresource", ""),
              labels.getOrDefault("verb", ""),
              labels.getOrDefault("code", ""));
      counters.merge(key, Double.parseDouble(m.group(2)), Double::sum);
    }
    return counters;
  }

  private static boolean isReady(ManagedSecret ms) {
    if (ms.getStatus() == null) {
      return false;
    }
    for (Condition c : ms.getStatus().getConditions()) {
      if ("Ready".equals(c.getType()) && "True".equals(c.getStatus())) {
        return true;
      }
    }
    return false;
  }

  private static boolean isRotated(ManagedSecret ms) {
    return ms.getStatus() != null
        && ms.getStatus().getLastRotatedAt() != null
        && ms.getStatus().getPreviousVersionId() != null;
  }

  /**
   * Deletes the load while the operator still runs: its finalizer removes each secret's ciphertext.
   */
  private static String pct(List<Long> sortedMillis, int percentile) {
    if (sortedMillis.isEmpty()) {
      return "n/a";
    }
    int index = Math.max(0, (int) Math.ceil(percentile / 100.0 * sortedMillis.size()) - 1);
    return String.format("%.1f s", sortedMillis.get(index) / 1000.0);
  }
}
