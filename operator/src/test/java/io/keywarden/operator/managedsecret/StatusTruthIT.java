package io.keywarden.operator.managedsecret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Secret;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Status tells the truth about whether the value can be read, without syncToSecret (nothing else
 * decrypts on reconciliation): a foreign envelope and a missing record show in conditions, Events
 * and the degraded gauge, and heal when repaired.
 */
@KubernetesIT
class StatusTruthIT {

  private static OperatorFixture fixture;

  @BeforeAll
  static void startOperator(TestCluster cluster) {
    fixture = new OperatorFixture(cluster, Map.of()).start();
  }

  @AfterAll
  static void stopOperator() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void aCopiedEnvelopeThenAMissingRecordShowAndHeal(TestNamespace ns) {
    ManagedSecret source = create(ns, "source");
    ManagedSecret target = create(ns, "target");
    String targetCurrent = target.getStatus().getCurrentVersionId();
    Secret original = fixture.ciphertext(target, targetCurrent);
    String originalEnvelope = original.getData().get(CiphertextStore.ENVELOPE_KEY);

    // As cluster admin: the other secret's envelope in this secret's record.
    Secret copied = fixture.ciphertext(target, targetCurrent);
    copied
        .getData()
        .put(
            CiphertextStore.ENVELOPE_KEY,
            fixture
                .ciphertext(source, source.getStatus().getCurrentVersionId())
                .getData()
                .get(CiphertextStore.ENVELOPE_KEY));
    fixture.client.resource(copied).update();

    var degraded =
        fixture.awaitCondition(
            ns.name(), "target", "Degraded", "True", ManagedSecretConditions.DECRYPTION_FAILED);
    assertThat(degraded.getMessage()).contains("CURRENT").contains(targetCurrent);
    fixture.awaitCondition(
        ns.name(), "target", "Ready", "False", ManagedSecretConditions.DECRYPTION_FAILED);
    awaitWarning(ns, ManagedSecretConditions.DECRYPTION_FAILED);
    awaitGauge(ManagedSecretConditions.DECRYPTION_FAILED, 1);

    // Repaired: the record's own envelope back.
    Secret repaired = fixture.ciphertext(target, targetCurrent);
    repaired.getData().put(CiphertextStore.ENVELOPE_KEY, originalEnvelope);
    fixture.client.resource(repaired).update();
    fixture.awaitCondition(ns.name(), "target", "Degraded", "False", "Healthy");
    fixture.awaitReady(ns.name(), "target");
    awaitGauge(ManagedSecretConditions.DECRYPTION_FAILED, 0);

    // The CURRENT record deleted.
    Secret saved = fixture.ciphertext(target, targetCurrent);
    fixture.client.resource(saved).delete();
    var missing =
        fixture.awaitCondition(
            ns.name(), "target", "Degraded", "True", ManagedSecretConditions.CIPHERTEXT_MISSING);
    assertThat(missing.getMessage()).contains(targetCurrent).contains(fixture.namespace);
    fixture.awaitCondition(
        ns.name(), "target", "Ready", "False", ManagedSecretConditions.CIPHERTEXT_MISSING);
    awaitWarning(ns, ManagedSecretConditions.CIPHERTEXT_MISSING);
    awaitGauge(ManagedSecretConditions.CIPHERTEXT_MISSING, 1);

    // Restored from a backup.
    saved.getMetadata().setResourceVersion(null);
    saved.getMetadata().setUid(null);
    saved.getMetadata().setCreationTimestamp(null);
    saved.getMetadata().setManagedFields(null);
    fixture.client.resource(saved).create();
    fixture.awaitCondition(ns.name(), "target", "Degraded", "False", "Healthy");
    fixture.awaitReady(ns.name(), "target");
    awaitGauge(ManagedSecretConditions.CIPHERTEXT_MISSING, 0);
    assertThat(fixture.get(ns.name(), "source").getStatus().getConditions())
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("Degraded");
              assertThat(c.getStatus()).isEqualTo("False");
            });
  }

  private static ManagedSecret create(TestNamespace ns, String name) {
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: %s}
        spec:
          generate: {}
        """
            .formatted(name));
    return fixture.awaitReady(ns.name(), name);
  }

  private static void awaitWarning(TestNamespace ns, String reason) {
    fixture.awaitEvent(
        ns.name(),
        e -> {
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getReason()).isEqualTo(reason);
          assertThat(e.getInvolvedObject().getName()).isEqualTo("target");
        });
  }

  private static void awaitGauge(String reason, int value) {
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () ->
                assertThat(fixture.operator.http("/q/metrics").body())
                    .containsPattern(
                        "keywarden_managedsecrets_degraded\\{[^}]*reason=\""
                            + reason
                            + "\"[^}]*\\} "
                            + value
                            + "\\.0"));
  }
}
