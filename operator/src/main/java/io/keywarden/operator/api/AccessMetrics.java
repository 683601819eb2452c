package io.keywarden.operator.api;

import io.keywarden.operator.metrics.ScrapeTimeMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads and waiting agents by namespace, never by caller: {@code keywarden_api_reads_total
 * {namespace, outcome}} (GetSecretValue answers: ok, error, denied) and, computed at scrape time,
 * {@code keywarden_api_namespace_waiters{namespace}} (long-poll requests waiting for a change).
 * Only namespaces that hold ManagedSecrets get their own label value, so a caller asking for
 * made-up namespaces cannot grow the series; its reads count under {@code namespace="(unknown)"}.
 */
final class AccessMetrics {

  static final String UNKNOWN = "(unknown)";

  private final MeterRegistry registry;
  private final SecretCatalog catalog;
  private final Map<ReadKey, Counter> reads = new ConcurrentHashMap<>();

  AccessMetrics(MeterRegistry registry, SecretCatalog catalog, ChangeWaiters waiters) {
    this.registry = registry;
    this.catalog = catalog;
    ScrapeTimeMetrics.register(
        registry,
        "api",
        families -> {
          families.gauge(
              "keywarden_api_namespace_waiters",
              "Long-poll requests waiting for a change of a secret in the namespace",
              "namespace");
          waiters
              .byNamespace()
              .forEach((ns, count) -> families.add("keywarden_api_namespace_waiters", count, ns));
        });
  }

  /** Counts an answer to GetSecretValue; other actions are not reads. */
  void answered(String action, String namespace, String name, String outcome) {
    if (!"GetSecretValue".equals(action)) {
      return;
    }
    boolean known = namespace != null && name != null && catalog.find(namespace, name).isPresent();
    // The registry's own lookup builds Tags and a Meter.Id per call: a few percent of a cached
    // read's CPU. The map holds what the registry holds anyway (a counter per namespace seen).
    reads
        .computeIfAbsent(
            new ReadKey(known ? namespace : UNKNOWN, outcome),
            k ->
                registry.counter(
                    "keywarden.api.reads", "namespace", k.namespace(), "outcome", k.outcome()))
        .increment();
  }

  private record ReadKey(String namespace, String outcome) {}
}
