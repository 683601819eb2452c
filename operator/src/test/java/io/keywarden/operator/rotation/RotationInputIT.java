package io.keywarden.operator.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.RotationSchedule;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.QuarkusProcess;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad schedules are reported with the field named and rotate nothing. */
@KubernetesIT
class RotationInputIT {

  private static OperatorFixture fixture;

  @BeforeAll
  static void start(TestCluster cluster) {
    fixture = new OperatorFixture(cluster, Map.of()).start();
    fixture
        .client
        .serviceAccounts()
        .inNamespace(fixture.namespace)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName("keywarden-operator")
                .endMetadata()
                .build())
        .create();
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void invalidExpressionIsReportedNamingTheField(TestNamespace ns) {
    secret(ns);
    schedule(ns, "bad-cron", "cron(0 4 * * MON *)", null, "{type: generate}", "app");

    assertThat(awaitNotReady(ns, "bad-cron", "InvalidSchedule").getMessage())
        .startsWith("spec.schedule: cron(0 4 * * MON *)")
        .contains("day-of-month and day-of-week");
    assertNotRotated(ns);
  }

  @Test
  void scheduleMoreFrequentThanTheMinimumIsRefused(TestNamespace ns) {
    secret(ns);
    schedule(ns, "too-often", "rate(5 minutes)", null, "{type: generate}", "app");

    assertThat(awaitNotReady(ns, "too-often", "InvalidSchedule").getMessage())
        .startsWith("spec.schedule:")
        .contains("minimum interval");
  }

  @Test
  void windowLongerThanTheIntervalIsRefused(TestNamespace ns) {
    secret(ns);
    schedule(ns, "wide-window", "rate(1 day)", "25h", "{type: generate}", "app");

    assertThat(awaitNotReady(ns, "wide-window", "InvalidSchedule").getMessage())
        .startsWith("spec.window:");
    assertNotRotated(ns);
  }

  @Test
  void missingTargetSecretIsReported(TestNamespace ns) {
    schedule(ns, "orphan", "rate(1 day)", null, "{type: generate}", "does-not-exist");

    assertThat(awaitNotReady(ns, "orphan", "SecretNotFound").getMessage())
        .isEqualTo("spec.secretRef.name: ManagedSecret " + ns + "/does-not-exist does not exist");
  }

  @Test
  void unreachableHookFailsTheRotationAndKeepsCurrent(TestNamespace ns) {
    ManagedSecret before = secret(ns);
    int closedPort = QuarkusProcess.freePort();
    schedule(
        ns,
        "hooked",
        "rate(1 day)",
        null,
        "{type: hook, hook: {url: 'https://127.0.0.1:"
            + closedPort
            + "/rotate', timeoutSeconds: 5}}",
        "app");

    Condition degraded =
        fixture.awaitCondition(ns.name(), "app", "Degraded", "True", "RotationHookUnreachable");

    assertThat(degraded.getMessage())
        .startsWith("spec.strategy.hook.url: https://127.0.0.1:" + closedPort)
        .contains("CURRENT is unchanged");
    ManagedSecret after = fixture.get(ns.name(), "app");
    assertThat(after.getStatus().getCurrentVersionId())
        .isEqualTo(before.getStatus().getCurrentVersionId());
    assertThat(after.getStatus().getVersions()).hasSize(1);
    assertThat(after.getStatus().getRetryRotationAt()).isNotNull();
    // The schedule's status is written after the secret's, at the end of its reconciliation.
    RotationSchedule rs =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    fixture
                        .client
                        .resources(RotationSchedule.class)
                        .inNamespace(ns.name())
                        .withName("hooked")
                        .get(),
                r -> r.getStatus() != null && r.getStatus().getLastResult() != null);
    assertThat(rs.getStatus().getLastResult().getReason()).isEqualTo("RotationHookUnreachable");
  }

  private static Condition awaitNotReady(TestNamespace ns, String name, String reason) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () ->
                Optional.ofNullable(
                        fixture
                            .client
                            .resources(RotationSchedule.class)
                            .inNamespace(ns.name())
                            .withName(name)
                            .get())
                    .filter(rs -> rs.getStatus() != null)
                    .flatMap(
                        rs ->
                            rs.getStatus().getConditions().stream()
                                .filter(
                                    c ->
                                        "Ready".equals(c.getType())
                                            && "False".equals(c.getStatus())
                                            && reason.equals(c.getReason()))
                                .findFirst()),
            Optional::isPresent)
        .orElseThrow();
  }

  private static void assertNotRotated(TestNamespace ns) {
    ManagedSecret secret = fixture.get(ns.name(), "app");
    assertThat(secret.getStatus().getLastRotatedAt()).isNull();
    assertThat(secret.getStatus().getVersions()).hasSize(1);
  }

  private static ManagedSecret secret(TestNamespace ns) {
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: app}
        spec:
          generate: {}
        """);
    return fixture.awaitReady(ns.name(), "app");
  }

  private static void schedule(
      TestNamespace ns,
      String name,
      String schedule,
      String window,
      String strategy,
      String target) {
    RotationIT.applyTo(
        fixture,
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: RotationSchedule
        metadata: {name: %s}
        spec:
          secretRef: {name: %s}
          schedule: "%s"
          %s
          rotateImmediately: true
          strategy: %s
        """
            .formatted(
                name, target, schedule, window == null ? "" : "window: " + window, strategy));
  }
}
