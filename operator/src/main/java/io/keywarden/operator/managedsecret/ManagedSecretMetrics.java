package io.keywarden.operator.managedsecret;

import io.javaoperatorsdk.operator.Operator;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.metrics.ControllerCaches;
import io.keywarden.operator.metrics.ScrapeTimeMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import java.time.Instant;

/**
 * Per ManagedSecret (labels {@code namespace}, {@code name}), read from its status in the
 * controller's cache at scrape time: when it last rotated, when it rotates next, how old its
 * CURRENT value is, how many rotation attempts failed in a row, when it was last read. One series
 * per object and metric; none for a time the status does not hold.
 */
@ApplicationScoped
public class ManagedSecretMetrics {

  static final String LAST_ROTATION = "keywarden_managedsecret_last_rotation_timestamp_seconds";
  static final String NEXT_ROTATION = "keywarden_managedsecret_next_rotation_timestamp_seconds";
  static final String VERSION_AGE = "keywarden_managedsecret_current_version_age_seconds";
  static final String FAILURES = "keywarden_managedsecret_rotation_consecutive_failures";
  static final String LAST_ACCESSED = "keywarden_managedsecret_last_accessed_timestamp_seconds";

  void register(@Observes StartupEvent event, MeterRegistry registry, Operator operator) {
    Clock clock = Clock.systemUTC();
    ScrapeTimeMetrics.register(
        registry,
        "managedsecret",
        families -> {
          families
              .gauge(
                  LAST_ROTATION,
                  "Last successful rotation (status.lastRotatedAt)",
                  "namespace",
                  "name")
              .gauge(
                  NEXT_ROTATION,
                  "Next scheduled rotation (status.nextRotationAt)",
                  "namespace",
                  "name")
              .gauge(VERSION_AGE, "Age of the CURRENT version", "namespace", "name")
              .gauge(
                  FAILURES, "Failed rotation attempts since the last success", "namespace", "name")
              .gauge(
                  LAST_ACCESSED,
                  "Day of the last successful read (status.lastAccessedDate, UTC midnight)",
                  "namespace",
                  "name");
          Instant now = clock.instant();
          ControllerCaches.primaries(operator, "managedsecret", ManagedSecret.class)
              .forEach(
                  secret -> {
                    ManagedSecretStatus status = secret.getStatus();
                    if (status == null) {
                      return;
                    }
                    String ns = secret.getMetadata().getNamespace();
                    String name = secret.getMetadata().getName();
                    ScrapeTimeMetrics.epochSeconds(status.getLastRotatedAt())
                        .ifPresent(t -> families.add(LAST_ROTATION, t, ns, name));
                    ScrapeTimeMetrics.epochSeconds(status.getNextRotationAt())
                        .ifPresent(t -> families.add(NEXT_ROTATION, t, ns, name));
                    status.getVersions().stream()
                        .filter(v -> v.getStages().contains(SecretVersion.CURRENT))
                        .findFirst()
                        .flatMap(v -> ScrapeTimeMetrics.epochSeconds(v.getCreatedDate()))
                        .ifPresent(
                            created ->
                                families.add(
                                    VERSION_AGE, now.getEpochSecond() - created, ns, name));
                    ScrapeTimeMetrics.epochSeconds(status.getLastAccessedDate())
                        .ifPresent(t -> families.add(LAST_ACCESSED, t, ns, name));
                    if (status.getCurrentVersionId() != null) {
                      families.add(
                          FAILURES,
                          status.getRotationFailures() == null ? 0 : status.getRotationFailures(),
                          ns,
                          name);
                    }
                  });
        });
  }
}
