package io.keywarden.operator.config;

import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.jboss.logging.Logger;

/**
 * Hands the Java Operator SDK its leader election settings. The SDK looks the bean up once at
 * start; a null bean means no election, so one binary serves both the single local process and a
 * replicated Deployment.
 *
 * <p>Only the controllers (reconciliation and rotation) wait for leadership. A replica that loses
 * the Lease exits, so it can never keep rotating beside the new leader; Kubernetes restarts it as a
 * fresh candidate.
 */
public class LeaderElectionProducer {

  private static final Logger LOG = Logger.getLogger(LeaderElectionProducer.class);

  @Produces
  @Dependent
  LeaderElectionConfiguration leaderElection(KeywardenConfig config, Leadership leadership) {
    KeywardenConfig.LeaderElection election = config.leaderElection();
    if (!election.enabled()) {
      return null;
    }
    String identity =
        election
            .identity()
            .filter(s -> !s.isBlank())
            .orElseGet(LeaderElectionProducer::defaultIdentity);
    LOG.infof(
        "leader election on: Lease %s/%s, candidate %s",
        config.namespace(), election.leaseName(), identity);
    return LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(election.leaseName())
        .withLeaseNamespace(config.namespace())
        .withIdentity(identity)
        .withLeaseDuration(election.leaseDuration())
        .withRenewDeadline(election.renewDeadline())
        .withRetryPeriod(election.retryPeriod())
        // The SDK runs these beside its own callbacks that start and stop the controllers.
        .withLeaderCallbacks(
            new LeaderCallbacks(leadership::started, leadership::stopped, leader -> {}))
        .build();
  }

  // A per-process suffix: a restarted pod with the same name is a new candidate, and two local
  // processes on one host do not share an identity.
  private static String defaultIdentity() {
    String host =
        Optional.ofNullable(System.getenv("HOSTNAME"))
            .filter(s -> !s.isBlank())
            .orElse("keywarden");
    byte[] suffix = new byte[4];
    ThreadLocalRandom.current().nextBytes(suffix);
    return host + "-" + HexFormat.of().formatHex(suffix);
  }
}
