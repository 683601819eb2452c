package io.keywarden.operator.kms;

import io.keywarden.operator.metrics.ScrapeTimeMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.health.api.HealthRegistry;
import io.smallrye.health.registry.HealthRegistries;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * One health check per configured provider, named {@code kms-<provider>}, in two places:
 *
 * <ul>
 *   <li>readiness ({@code /q/health/ready}): DOWN until the provider has answered a check of every
 *       one of its keys since this replica started, so a replica with a wrong region, endpoint or
 *       credential never takes traffic and a rollout that breaks KMS access stops at its first pod.
 *       A key the provider refuses (missing, disabled, not permitted) does not count against
 *       readiness: it degrades the secrets that use it and shows in the data. A later outage is
 *       reported in the check's data but keeps the replica ready: it still serves every value whose
 *       data key it has cached and answers 503 with Retry-After for the rest, whereas an outage of
 *       a shared KMS would otherwise take every replica out of the Service at once and turn those
 *       503s into refused connections. Liveness never includes the KMS: a restart cannot fix a KMS
 *       outage and would throw the cached data keys away.
 *   <li>the group {@code kms} ({@code /q/health/group/kms}): DOWN whenever a key fails its latest
 *       check, for monitoring and alerts.
 * </ul>
 */
@ApplicationScoped
public class KmsHealthChecks {

  public static final String GROUP = "kms";

  static final String HEALTHY = "keywarden_kms_key_healthy";
  static final String REACHABLE = "keywarden_kms_key_reachable";

  private final KmsHealth health;

  public KmsHealthChecks(KmsHealth health) {
    this.health = health;
  }

  void register(
      @Observes StartupEvent event, @Readiness HealthRegistry readiness, MeterRegistry metrics) {
    HealthRegistry group = HealthRegistries.getHealthGroupRegistry(GROUP);
    for (String provider : health.aliasesByProvider().keySet()) {
      readiness.register("kms-" + provider, () -> respond(provider, true));
      group.register("kms-" + provider, () -> respond(provider, false));
    }
    // The same latest outcomes per key alias, for alerts and the dashboard; an alias not checked
    // yet has no series.
    ScrapeTimeMetrics.register(
        metrics,
        "kms",
        families -> {
          families
              .gauge(HEALTHY, "1 when the key served its latest health check", "provider", "alias")
              .gauge(
                  REACHABLE,
                  "1 when the provider answered the key's latest health check, if only to refuse it",
                  "provider",
                  "alias");
          health
              .byProvider()
              .forEach(
                  (provider, keys) ->
                      keys.forEach(
                          key -> {
                            families.add(HEALTHY, key.healthy() ? 1 : 0, provider, key.alias());
                            families.add(REACHABLE, key.reachable() ? 1 : 0, provider, key.alias());
                          }));
        });
  }

  private HealthCheckResponse respond(String provider, boolean readiness) {
    List<String> aliases = health.aliasesByProvider().getOrDefault(provider, List.of());
    List<KmsHealth.KeyHealth> checked = health.byProvider().getOrDefault(provider, List.of());
    boolean allChecked = checked.size() == aliases.size();
    boolean healthyNow = allChecked && checked.stream().allMatch(KmsHealth.KeyHealth::healthy);
    boolean up =
        readiness
            ? allChecked && checked.stream().allMatch(KmsHealth.KeyHealth::everReachable)
            : healthyNow;
    HealthCheckResponseBuilder response =
        HealthCheckResponse.named("kms-" + provider)
            .status(up)
            .withData("provider", provider)
            .withData(
                "reachable",
                allChecked && checked.stream().allMatch(KmsHealth.KeyHealth::reachable));
    for (String alias : aliases) {
      response.withData(
          "key." + alias,
          checked.stream()
              .filter(k -> k.alias().equals(alias))
              .findFirst()
              .map(KmsHealth.KeyHealth::describe)
              .orElse("not checked yet"));
    }
    return response.build();
  }
}
