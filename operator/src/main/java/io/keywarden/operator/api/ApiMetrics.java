package io.keywarden.operator.api;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The per-request meters ({@code keywarden.api.requests} by action, outcome and status, {@code
 * keywarden.api.request.duration} by action and outcome), each registered once on first use and
 * then found in a map of its own: building and registering a meter per request (tag sorting, id
 * lookup in the registry) showed in the profile of a cached GetSecretValue.
 */
final class ApiMetrics {

  private record CounterKey(String action, String outcome, int status) {}

  private record TimerKey(String action, String outcome) {}

  private final MeterRegistry registry;
  private final Map<CounterKey, Counter> counters = new ConcurrentHashMap<>();
  private final Map<TimerKey, Timer> timers = new ConcurrentHashMap<>();

  ApiMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void record(String action, String outcome, int status, long nanos) {
    counters
        .computeIfAbsent(
            new CounterKey(action, outcome, status),
            k ->
                registry.counter(
                    "keywarden.api.requests",
                    "action",
                    k.action(),
                    "outcome",
                    k.outcome(),
                    "status",
                    Integer.toString(k.status())))
        .increment();
    timers
        .computeIfAbsent(
            new TimerKey(action, outcome),
            k ->
                Timer.builder("keywarden.api.request.duration")
                    .tag("action", k.action())
                    .tag("outcome", k.outcome())
                    .publishPercentileHistogram()
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }
}
