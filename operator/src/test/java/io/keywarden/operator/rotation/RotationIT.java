package io.keywarden.operator.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Secret;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.RotationSchedule;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Scheduled, manual and crash-interrupted rotations against the real operator process. */
@KubernetesIT
class RotationIT {

  private static OperatorFixture fixture;

  @BeforeAll
  static void start(TestCluster cluster) {
    fixture =
        new OperatorFixture(cluster, Map.of("KEYWARDEN_ROTATION_MINIMUM_INTERVAL", "1m")).start();
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void rateScheduleRotatesTwiceMovingCurrentAndPrevious(TestNamespace ns) {
    createSynced(ns, "api-token");
    String original = fixture.get(ns.name(), "api-token").getStatus().getCurrentVersionId();
    String originalValue = fixture.awaitSynced(ns.name(), "api-token-plain", "value");
    apply(
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: RotationSchedule
        metadata: {name: every-minute}
        spec:
          secretRef: {name: api-token}
          schedule: rate(1 minute)
          rotateImmediately: true
          strategy: {type: generate}
        """);

    ManagedSecret once =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () -> fixture.get(ns.name(), "api-token"),
                s -> !original.equals(s.getStatus().getCurrentVersionId()));
    String first = once.getStatus().getCurrentVersionId();
    assertThat(once.getStatus().getPreviousVersionId()).isEqualTo(original);
    assertThat(stages(once))
        .containsEntry(first, List.of("CURRENT"))
        .containsEntry(original, List.of("PREVIOUS"));
    assertThat(once.getStatus().getLastRotatedAt()).isNotNull();

    ManagedSecret twice =
        await()
            .atMost(Duration.ofSeconds(100))
            .pollInterval(Duration.ofMillis(500))
            .until(
                () -> fixture.get(ns.name(), "api-token"),
                s -> !first.equals(s.getStatus().getCurrentVersionId()));
    String second = twice.getStatus().getCurrentVersionId();
    assertThat(twice.getStatus().getPreviousVersionId()).isEqualTo(first);
    assertThat(stages(twice))
        .containsEntry(second, List.of("CURRENT"))
        .containsEntry(first, List.of("PREVIOUS"))
        .containsEntry(original, List.of());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                !fixture.awaitSynced(ns.name(), "api-token-plain", "value").equals(originalValue));

    RotationSchedule schedule =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    fixture
                        .client
                        .resources(RotationSchedule.class)
                        .inNamespace(ns.name())
                        .withName("every-minute")
                        .get(),
                r -> r.getStatus() != null && r.getStatus().getHistory().size() >= 2);
    assertThat(schedule.getStatus().getHistory())
        .hasSizeGreaterThanOrEqualTo(2)
        .allSatisfy(r -> assertThat(r.getResult().name()).isEqualTo("Succeeded"));
    assertThat(schedule.getStatus().getNextRotationTime()).isNotNull();
    assertThat(fixture.get(ns.name(), "api-token").getStatus().getNextRotationAt()).isNotNull();
    assertNoOrphans(fixture.get(ns.name(), "api-token"));
  }

  @Test
  void rotateNowAnnotationRotatesWithoutASchedule(TestNamespace ns) {
    createSynced(ns, "manual");
    String before = fixture.get(ns.name(), "manual").getStatus().getCurrentVersionId();

    fixture
        .client
        .resources(ManagedSecret.class)
        .inNamespace(ns.name())
        .withName("manual")
        .edit(
            s -> {
              s.getMetadata().getAnnotations().put(ManagedSecret.ROTATE_NOW_ANNOTATION, "now");
              return s;
            });

    ManagedSecret rotated =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () -> fixture.get(ns.name(), "manual"),
                s -> !before.equals(s.getStatus().getCurrentVersionId()));
    assertThat(rotated.getStatus().getPreviousVersionId()).isEqualTo(before);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                !fixture
                    .get(ns.name(), "manual")
                    .getMetadata()
                    .getAnnotations()
                    .containsKey(ManagedSecret.ROTATE_NOW_ANNOTATION));
    fixture.awaitEvents(
        ns.name(),
        events ->
            assertThat(events)
                .extracting(e -> e.getReason())
                .contains("RotationStarted", "RotationSucceeded"));
  }

  /**
   * The operator is SIGKILLed right after each step has been persisted, then restarted: the
   * rotation completes, CURRENT decrypts, and no ciphertext is orphaned.
   */
  @ParameterizedTest(name = "killed after {0}")
  @ValueSource(strings = {"createSecret", "setSecret", "testSecret", "finishSecret"})
  void rotationSurvivesAKillAfterEachStep(String step, TestNamespace ns) {
    fixture.operator.stop();
    fixture.restartWith(Map.of("KEYWARDEN_FAULT_PAUSE_AFTER", step));
    String before;
    try {
      createSynced(ns, "crash");
      before = fixture.get(ns.name(), "crash").getStatus().getCurrentVersionId();
      String valueBefore = fixture.awaitSynced(ns.name(), "crash-plain", "value");
      fixture
          .client
          .resources(ManagedSecret.class)
          .inNamespace(ns.name())
          .withName("crash")
          .edit(
              s -> {
                s.getMetadata()
                    .getAnnotations()
                    .put(ManagedSecret.ROTATE_NOW_ANNOTATION, "crash-test");
                return s;
              });
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> fixture.operator.logText().contains("FAULT INJECTION: paused after " + step));

      fixture.operator.kill();
      ManagedSecret interrupted = fixture.get(ns.name(), "crash");
      if (!"finishSecret".equals(step)) {
        assertThat(interrupted.getStatus().getRotation()).as("rotation left half-way").isNotNull();
      }
    } finally {
      if (fixture.operator.isAlive()) {
        fixture.operator.kill();
      }
      fixture.restartWith(mapWithNull("KEYWARDEN_FAULT_PAUSE_AFTER"));
    }

    // The request is removed beside the ciphertext's storage, so a kill at any step may find it
    // still there; wait until it is gone too, then check that it caused exactly one rotation.
    ManagedSecret done =
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () -> fixture.get(ns.name(), "crash"),
                s ->
                    s.getStatus().getRotation() == null
                        && s.getStatus().getPendingVersionId() == null
                        && !s.getMetadata()
                            .getAnnotations()
                            .containsKey(ManagedSecret.ROTATE_NOW_ANNOTATION));
    assertThat(done.getStatus().getVersions())
        .filteredOn(v -> v.getStages().contains("CURRENT"))
        .hasSize(1);
    assertThat(done.getStatus().getVersions()).noneMatch(v -> v.getStages().contains("PENDING"));
    // Exactly one rotation for the one request: the restarted operator must not rotate again
    // because the rotate-now annotation outlived the kill.
    assertThat(done.getStatus().getPreviousVersionId()).isEqualTo(before);
    assertThat(done.getMetadata().getAnnotations())
        .doesNotContainKey(ManagedSecret.ROTATE_NOW_ANNOTATION);
    // CURRENT decrypts: the synced copy follows it.
    fixture.client.secrets().inNamespace(ns.name()).withName("crash-plain").delete();
    assertThat(fixture.awaitSynced(ns.name(), "crash-plain", "value")).hasSize(32);
    assertNoOrphans(done);
  }

  @Test
  void rotateEncryptionKeyRewrapsEveryVersionAndKeepsValues(TestNamespace ns) {
    createSynced(ns, "rewrapped");
    String value = fixture.awaitSynced(ns.name(), "rewrapped-plain", "value");
    ManagedSecret before = fixture.get(ns.name(), "rewrapped");
    int keyVersionBefore = before.getStatus().getVersions().get(0).getKeyVersion();

    apply(
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: RotationSchedule
        metadata: {name: rekey}
        spec:
          secretRef: {name: rewrapped}
          schedule: rate(1 day)
          rotateImmediately: true
          strategy: {type: rotateEncryptionKey}
        """);

    ManagedSecret after =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () -> fixture.get(ns.name(), "rewrapped"),
                s ->
                    s.getStatus().getVersions().stream()
                        .allMatch(v -> v.getKeyVersion() > keyVersionBefore));
    assertThat(after.getStatus().getCurrentVersionId())
        .isEqualTo(before.getStatus().getCurrentVersionId());
    for (SecretVersion version : after.getStatus().getVersions()) {
      Envelope envelope = envelope(fixture.ciphertext(after, version.getVersionId()));
      assertThat(envelope.keyVersion())
          .isEqualTo(version.getKeyVersion())
          .isGreaterThan(keyVersionBefore);
    }
    fixture.client.secrets().inNamespace(ns.name()).withName("rewrapped-plain").delete();
    assertThat(fixture.awaitSynced(ns.name(), "rewrapped-plain", "value")).isEqualTo(value);
    assertThat(
            fixture
                .client
                .secrets()
                .inNamespace(fixture.namespace)
                .withName("keywarden-master-keys")
                .get()
                .getData())
        .containsKey("default.v" + after.getStatus().getVersions().get(0).getKeyVersion());
  }

  private static Envelope envelope(Secret ciphertext) {
    return Envelope.decode(
        Base64.getDecoder().decode(ciphertext.getData().get(CiphertextStore.ENVELOPE_KEY)));
  }

  private static void assertNoOrphans(ManagedSecret secret) {
    Set<String> stored =
        fixture
            .client
            .secrets()
            .inNamespace(fixture.namespace)
            .withLabel(CiphertextStore.LABEL_SECRET_UID, secret.getMetadata().getUid())
            .list()
            .getItems()
            .stream()
            .map(s -> s.getMetadata().getAnnotations().get(CiphertextStore.ANNOTATION_VERSION_ID))
            .collect(Collectors.toSet());
    assertThat(stored)
        .as("ciphertext objects")
        .isEqualTo(
            secret.getStatus().getVersions().stream()
                .map(SecretVersion::getVersionId)
                .collect(Collectors.toSet()));
  }

  private static Map<String, List<String>> stages(ManagedSecret secret) {
    return secret.getStatus().getVersions().stream()
        .collect(Collectors.toMap(SecretVersion::getVersionId, SecretVersion::getStages));
  }

  private static void createSynced(TestNamespace ns, String name) {
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: %s, annotations: {team: tests}}
        spec:
          generate: {passwordLength: 32}
          syncToSecret: {name: %s-plain}
        """
            .formatted(name, name));
    fixture.awaitReady(ns.name(), name);
    fixture.awaitSynced(ns.name(), name + "-plain", "value");
  }

  static void apply(TestNamespace ns, String yaml) {
    applyTo(fixture, ns, yaml);
  }

  static void applyTo(OperatorFixture operator, TestNamespace ns, String yaml) {
    operator
        .client
        .resource(
            operator.client.getKubernetesSerialization().unmarshal(yaml, RotationSchedule.class))
        .inNamespace(ns.name())
        .create();
  }

  private static Map<String, String> mapWithNull(String key) {
    Map<String, String> map = new HashMap<>();
    map.put(key, null);
    return map;
  }
}
