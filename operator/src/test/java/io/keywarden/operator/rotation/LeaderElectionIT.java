package io.keywarden.operator.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.QuarkusProcess;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Two operator replicas on one namespace: only the Lease holder reconciles and rotates, and when it
 * dies half-way through a rotation the other replica takes the Lease and finishes it.
 */
@KubernetesIT
class LeaderElectionIT {

  private static final Map<String, String> ELECTION =
      Map.of(
          "KEYWARDEN_LEADER_ELECTION_ENABLED", "true",
          "KEYWARDEN_LEADER_ELECTION_LEASE_DURATION", "6s",
          "KEYWARDEN_LEADER_ELECTION_RENEW_DEADLINE", "4s",
          "KEYWARDEN_LEADER_ELECTION_RETRY_PERIOD", "1s");

  @Test
  void onlyTheLeaderRotatesAndTheStandbyFinishesWhatTheLeaderLeftHalfWay(
      TestCluster cluster, TestNamespace ns) {
    try (OperatorFixture fixture =
        new OperatorFixture(
            cluster,
            with(
                ELECTION,
                Map.of(
                    "KEYWARDEN_LEADER_ELECTION_IDENTITY", "replica-a",
                    "KEYWARDEN_FAULT_PAUSE_AFTER", "setSecret")))) {
      fixture.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> "replica-a".equals(holder(fixture)));
      // The standby is ready (it serves the API) although it does not hold the Lease.
      Map<String, String> replicaEnv = new HashMap<>();
      replicaEnv.put("KEYWARDEN_LEADER_ELECTION_IDENTITY", "replica-b");
      replicaEnv.put("KEYWARDEN_FAULT_PAUSE_AFTER", null);
      QuarkusProcess replicaB = fixture.replica(replicaEnv).start();
      try {
        fixture.apply(
            ns.name(),
            """
            apiVersion: keywarden.io/v1alpha1
            kind: ManagedSecret
            metadata: {name: shared}
            spec:
              generate: {passwordLength: 24}
            """);
        String before = fixture.awaitReady(ns.name(), "shared").getStatus().getCurrentVersionId();
        fixture
            .client
            .resources(ManagedSecret.class)
            .inNamespace(ns.name())
            .withName("shared")
            .edit(
                s -> {
                  s.getMetadata()
                      .getAnnotations()
                      .put(ManagedSecret.ROTATE_NOW_ANNOTATION, "ha-test");
                  return s;
                });
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    fixture.operator.logText().contains("FAULT INJECTION: paused after setSecret"));

        // The leader is stuck mid-rotation but alive and renewing: for three lease durations the
        // standby must neither take the Lease nor touch the rotation.
        await()
            .during(Duration.ofSeconds(18))
            .atMost(Duration.ofSeconds(20))
            .until(() -> "replica-a".equals(holder(fixture)));
        assertThat(replicaB.logText())
            .doesNotContain("rotation started")
            .doesNotContain("resuming rotation")
            .doesNotContain("created version");
        assertThat(fixture.get(ns.name(), "shared").getStatus().getRotation()).isNotNull();

        fixture.operator.kill();
        await().atMost(Duration.ofSeconds(30)).until(() -> "replica-b".equals(holder(fixture)));
        ManagedSecret done =
            await()
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .until(
                    () -> fixture.get(ns.name(), "shared"),
                    s ->
                        s.getStatus().getRotation() == null
                            && !before.equals(s.getStatus().getCurrentVersionId()));
        assertThat(done.getStatus().getPreviousVersionId()).isEqualTo(before);
        assertThat(replicaB.logText()).contains("resuming rotation at step");

        // The new leader also runs ordinary reconciliation.
        fixture.apply(
            ns.name(),
            """
            apiVersion: keywarden.io/v1alpha1
            kind: ManagedSecret
            metadata: {name: after-failover}
            spec:
              generate: {passwordLength: 24}
            """);
        fixture.awaitReady(ns.name(), "after-failover");
      } finally {
        replicaB.stop();
      }
    }
  }

  private static String holder(OperatorFixture fixture) {
    Lease lease =
        fixture.client.leases().inNamespace(fixture.namespace).withName("keywarden-operator").get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  private static Map<String, String> with(Map<String, String> a, Map<String, String> b) {
    Map<String, String> all = new HashMap<>(a);
    all.putAll(b);
    return all;
  }
}
