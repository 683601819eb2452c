package io.keywarden.operator.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.prometheus.client.Collector;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Metrics computed when Prometheus scrapes, from state the process already holds (informer caches,
 * health results), rather than kept up to date by the code that changes that state. A series exists
 * exactly as long as its object does, so the number of series follows the number of objects and
 * never the number of requests, and no reconciler or request path pays for them.
 *
 * <p>Registered on the Prometheus registry behind Quarkus's {@code /q/metrics}. Label values are
 * names, never values or tokens.
 */
public final class ScrapeTimeMetrics extends Collector {

  private static final Logger LOG = Logger.getLogger(ScrapeTimeMetrics.class);

  private final String source;
  private final Consumer<Families> collector;

  private ScrapeTimeMetrics(String source, Consumer<Families> collector) {
    this.source = source;
    this.collector = collector;
  }

  /**
   * Registers a collector that fills metric families on every scrape.
   *
   * @param source names the collector in the log line of a failed scrape
   */
  public static void register(MeterRegistry registry, String source, Consumer<Families> collector) {
    prometheus(registry)
        .ifPresentOrElse(
            p -> p.getPrometheusRegistry().register(new ScrapeTimeMetrics(source, collector)),
            () -> LOG.debugf("no Prometheus registry: metrics of %s not registered", source));
  }

  /** The Prometheus registry: the one injected, or inside a composite. */
  private static Optional<PrometheusMeterRegistry> prometheus(MeterRegistry registry) {
    if (registry instanceof PrometheusMeterRegistry p) {
      return Optional.of(p);
    }
    if (registry instanceof CompositeMeterRegistry composite) {
      return composite.getRegistries().stream().flatMap(r -> prometheus(r).stream()).findFirst();
    }
    return Optional.empty();
  }

  /** Seconds since the epoch of an RFC 3339 time from a status; empty when absent or malformed. */
  public static Optional<Double> epochSeconds(String time) {
    if (time == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(time).toEpochMilli() / 1000.0);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  @Override
  public List<MetricFamilySamples> collect() {
    Families families = new Families();
    try {
      collector.accept(families);
    } catch (RuntimeException e) {
      // A scrape must not fail as a whole because one source is not ready (an informer not yet
      // started); its series are missing from this scrape only.
      LOG.debugf("scrape-time metrics of %s skipped: %s", source, e.toString());
      return List.of();
    }
    return families.build();
  }

  /** The families of one scrape: declare each, then add samples. */
  public static final class Families {

    private record Family(String name, Type type, String help, List<String> labels) {}

    private final Map<String, Family> families = new LinkedHashMap<>();
    private final Map<String, List<MetricFamilySamples.Sample>> samples = new LinkedHashMap<>();
    private final Set<String> seen = new HashSet<>();

    private Families() {}

    public Families gauge(String name, String help, String... labelNames) {
      families.putIfAbsent(name, new Family(name, Type.GAUGE, help, List.of(labelNames)));
      samples.putIfAbsent(name, new ArrayList<>());
      return this;
    }

    /**
     * Adds a sample to a declared family; label values in the order of its label names. A second
     * sample with the same labels is dropped: Prometheus refuses a whole scrape with a duplicate.
     */
    public void add(String name, double value, String... labelValues) {
      Family family = families.get(name);
      if (family == null || family.labels().size() != labelValues.length) {
        throw new IllegalArgumentException(name + ": undeclared, or wrong number of labels");
      }
      if (!seen.add(name + '\0' + String.join("\0", labelValues))) {
        return;
      }
      samples
          .get(name)
          .add(new MetricFamilySamples.Sample(name, family.labels(), List.of(labelValues), value));
    }

    private List<MetricFamilySamples> build() {
      List<MetricFamilySamples> result = new ArrayList<>();
      families
          .values()
          .forEach(
              f ->
                  result.add(
                      new MetricFamilySamples(
                          f.name(), f.type(), f.help(), samples.get(f.name()))));
      return result;
    }
  }
}
