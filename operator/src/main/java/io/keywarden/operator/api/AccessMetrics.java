package io.keywarden.operator.api;

import io.keywarden.operator.metrics.ScrapeTimeMetrics;
import io.micrometer.core.instrument.MeterRegistry;

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
    registry
        .counter(
            "keywarden.api.reads", "namespace", known ? namespace : UNKNOWN, "outcome", outcome)
        .increment();
  }
}
