package io.keywarden.operator.managedsecret;

import io.keywarden.api.v1alpha1.ManagedSecret;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gauge keywarden.managedsecrets.degraded{reason}: how many ManagedSecrets this replica last
 * saw degraded, by reason, so that an alert fires on DecryptionFailed or CiphertextMissing without
 * reading conditions. Labels carry reasons only, never names or values.
 */
@ApplicationScoped
public class DegradedSecrets {

  private final MeterRegistry registry;
  private final Map<String, String> reasonBySecret = new ConcurrentHashMap<>();
  private final Map<String, Gauge> gauges = new ConcurrentHashMap<>();

  public DegradedSecrets(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Records the secret's Degraded reason, or null when it is healthy. */
  public void set(ManagedSecret secret, String reason) {
    String uid = secret.getMetadata().getUid();
    if (reason == null) {
      reasonBySecret.remove(uid);
      return;
    }
    reasonBySecret.put(uid, reason);
    gauges.computeIfAbsent(
        reason,
        r ->
            Gauge.builder(
                    "keywarden.managedsecrets.degraded",
                    reasonBySecret,
                    m -> m.values().stream().filter(v -> Objects.equals(v, r)).count())
                .description("ManagedSecrets with Degraded=True, by reason")
                .tag("reason", r)
                .register(registry));
  }
}
