package io.keywarden.operator.config;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether this replica runs the controllers, as the gauge {@code keywarden_operator_leader} (1 or
 * 0): summed over the replicas it is 1 when all is well, and 0 for longer than a failover means
 * nothing reconciles or rotates. Without leader election the only replica always leads.
 */
@ApplicationScoped
public class Leadership {

  private final AtomicBoolean leading = new AtomicBoolean();

  void register(@Observes StartupEvent event, MeterRegistry registry, KeywardenConfig config) {
    if (!config.leaderElection().enabled()) {
      leading.set(true);
    }
    Gauge.builder("keywarden.operator.leader", leading, l -> l.get() ? 1 : 0)
        .description("1 while this replica holds the leader Lease and runs the controllers")
        .register(registry);
  }

  /** Whether this replica runs the controllers (and the leader's periodic jobs) now. */
  public boolean leading() {
    return leading.get();
  }

  void started() {
    leading.set(true);
  }

  void stopped() {
    leading.set(false);
  }
}
