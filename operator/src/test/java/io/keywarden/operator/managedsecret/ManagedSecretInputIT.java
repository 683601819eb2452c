package io.keywarden.operator.managedsecret;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Input the schema cannot judge is reported in Ready=False with the field named, and nothing is
 * stored.
 */
@KubernetesIT
class ManagedSecretInputIT {

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
  void missingSourceSecretIsReportedAndHealsOnceItExists(TestNamespace ns) {
    fixture.apply(ns.name(), fromSecret("imported", "legacy", "token"));

    Condition notReady =
        fixture.awaitCondition(ns.name(), "imported", "Ready", "False", "SourceSecretNotFound");
    assertThat(notReady.getMessage()).startsWith("spec.fromSecret.name").contains(ns + "/legacy");
    assertNothingStored(ns, "imported");

    fixture.createSecret(ns.name(), "legacy", "token", "abc".getBytes(StandardCharsets.UTF_8));
    fixture.awaitReady(ns.name(), "imported");
  }

  @Test
  void missingSourceKeyNamesTheKeysThatExist(TestNamespace ns) {
    fixture.createSecret(ns.name(), "legacy", "password", "abc".getBytes(StandardCharsets.UTF_8));
    fixture.apply(ns.name(), fromSecret("imported", "legacy", "token"));

    Condition notReady =
        fixture.awaitCondition(ns.name(), "imported", "Ready", "False", "SourceKeyNotFound");
    assertThat(notReady.getMessage())
        .startsWith("spec.fromSecret.key")
        .contains("(keys: password)");
  }

  @Test
  void valueOverTheLimitIsRefused(TestNamespace ns) {
    fixture.createSecret(ns.name(), "huge", "blob", new byte[65_537]);
    fixture.apply(ns.name(), fromSecret("huge", "huge", "blob"));

    Condition notReady =
        fixture.awaitCondition(ns.name(), "huge", "Ready", "False", "ValueTooLarge");
    assertThat(notReady.getMessage())
        .startsWith("spec.fromSecret")
        .contains("65537 bytes; the limit is 65536");
    assertNothingStored(ns, "huge");
  }

  @Test
  void unknownKmsKeyIdIsReported(TestNamespace ns) {
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: hsm-backed}
        spec:
          kmsKeyId: payments-hsm
          generate: {}
        """);

    Condition notReady =
        fixture.awaitCondition(ns.name(), "hsm-backed", "Ready", "False", "UnknownKmsKey");
    assertThat(notReady.getMessage())
        .isEqualTo("spec.kmsKeyId: unknown KMS key 'payments-hsm'; configured keys: default");
    assertNothingStored(ns, "hsm-backed");
  }

  @Test
  void generatorParametersTheSchemaCannotJudgeAreReported(TestNamespace ns) {
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: no-digits}
        spec:
          generate: {excludeCharacters: "0123456789"}
        """);
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: bad-template}
        spec:
          generate: {secretStringTemplate: "{user: app", generateStringKeys: [password]}
        """);

    assertThat(
            fixture
                .awaitCondition(ns.name(), "no-digits", "Ready", "False", "InvalidSpec")
                .getMessage())
        .startsWith("spec.generate.excludeCharacters removes all numbers");
    assertThat(
            fixture
                .awaitCondition(ns.name(), "bad-template", "Ready", "False", "InvalidSpec")
                .getMessage())
        .startsWith("spec.generate.secretStringTemplate is not valid JSON");
    // The Event follows the status write.
    fixture.awaitEvent(ns.name(), e -> assertThat(e.getReason()).isEqualTo("InvalidSpec"));
  }

  private static void assertNothingStored(TestNamespace ns, String name) {
    var secret = fixture.get(ns.name(), name);
    assertThat(secret.getStatus().getCurrentVersionId()).isNull();
    assertThat(
            fixture
                .client
                .secrets()
                .inNamespace(fixture.namespace)
                .withLabel(CiphertextStore.LABEL_SECRET_UID, secret.getMetadata().getUid())
                .list()
                .getItems())
        .isEmpty();
  }

  private static String fromSecret(String name, String source, String key) {
    return """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: %s}
        spec:
          fromSecret: {name: %s, key: %s}
        """
        .formatted(name, source, key);
  }
}
