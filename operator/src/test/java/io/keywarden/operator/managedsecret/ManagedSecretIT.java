package io.keywarden.operator.managedsecret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Secret;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.testcluster.EtcdReader;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A user's ManagedSecret against the real operator process and a real control plane. */
@KubernetesIT
class ManagedSecretIT {

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
  void generatedSecretBecomesReadyWithACurrentVersionAndNoValueInItsStatus(TestNamespace ns) {
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: db-password}
        spec:
          generate: {passwordLength: 40, excludePunctuation: true}
          syncToSecret: {name: db-password-plain}
        """);

    ManagedSecret ready = fixture.awaitReady(ns.name(), "db-password");
    String value = fixture.awaitSynced(ns.name(), "db-password-plain", "value");

    assertThat(value).hasSize(40).matches("[A-Za-z0-9]+");
    var status = ready.getStatus();
    assertThat(status.getCurrentVersionId()).isNotBlank();
    assertThat(status.getVersions())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getVersionId()).isEqualTo(status.getCurrentVersionId());
              assertThat(v.getStages()).containsExactly("CURRENT");
              assertThat(v.getKmsKeyId()).isEqualTo("default");
              assertThat(v.getKeyVersion()).isEqualTo(1);
            });
    assertThat(status.getObservedGeneration()).isEqualTo(ready.getMetadata().getGeneration());
    String statusJson =
        fixture.client.getKubernetesSerialization().asJson(fixture.get(ns.name(), "db-password"));
    assertThat(statusJson).doesNotContain(value).doesNotContain(b64(value));
    fixture.awaitEvent(ns.name(), e -> assertThat(e.getReason()).isEqualTo("VersionCreated"));
  }

  @Test
  void jsonTemplateKeepsFixedKeysAndGeneratesTheOthers(TestNamespace ns) {
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: db-credentials}
        spec:
          generate:
            passwordLength: 16
            secretStringTemplate: '{"username": "app", "host": "db.internal"}'
            generateStringKeys: [password]
          syncToSecret: {name: db-credentials-env}
        """);

    fixture.awaitReady(ns.name(), "db-credentials");

    assertThat(fixture.awaitSynced(ns.name(), "db-credentials-env", "username")).isEqualTo("app");
    assertThat(fixture.awaitSynced(ns.name(), "db-credentials-env", "host"))
        .isEqualTo("db.internal");
    assertThat(fixture.awaitSynced(ns.name(), "db-credentials-env", "password")).hasSize(16);
  }

  /**
   * issue 13 item 1: the reported object. Fields are copied exactly or named in a Warning; the
   * Event never says Synced while part of the value is missing from the copy.
   */
  @Test
  void syncCopiesFieldsExactlyAndNamesThoseItCannot(TestNamespace ns) {
    String value = "{\"k&<>\":\"x\",\"value\":\"y\",\"n\":null,\"o\":{\"a\":1},\"ratio\":1.50}";
    fixture.createSecret(ns.name(), "odd-source", "json", value.getBytes(StandardCharsets.UTF_8));
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: odd}
        spec:
          fromSecret: {name: odd-source, key: json}
          syncToSecret: {name: odd-copy}
        """);
    fixture.awaitReady(ns.name(), "odd");

    assertThat(fixture.awaitSynced(ns.name(), "odd-copy", "value")).isEqualTo(value);
    assertThat(fixture.awaitSynced(ns.name(), "odd-copy", "ratio")).isEqualTo("1.50");
    assertThat(fixture.awaitSynced(ns.name(), "odd-copy", "n")).isEmpty();
    assertThat(fixture.client.secrets().inNamespace(ns.name()).withName("odd-copy").get().getData())
        .containsOnlyKeys("value", "ratio", "n");
    var events =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> fixture.client.v1().events().inNamespace(ns.name()).list().getItems(),
                list -> list.stream().anyMatch(e -> "SyncIncomplete".equals(e.getReason())));
    assertThat(events)
        .filteredOn(e -> "SyncIncomplete".equals(e.getReason()))
        .first()
        .satisfies(
            e -> {
              assertThat(e.getType()).isEqualTo("Warning");
              assertThat(e.getMessage())
                  .contains(
                      "not these JSON fields as keys of their own: 'k&<>' (not a Secret data key",
                      "'value' (the whole value already uses this key)",
                      "'o' (a nested object; read it from the whole value)")
                  .doesNotContain("\"x\"")
                  .doesNotContain("\"y\"");
            });
    assertThat(events).noneMatch(e -> "Synced".equals(e.getReason()));
  }

  @Test
  void etcdHoldsNeitherThePlaintextNorItsBase64(TestCluster cluster, TestNamespace ns) {
    String etcd = cluster.controlPlane().etcdEndpoint().orElse(null);
    Assumptions.assumeTrue(etcd != null, "needs the etcd of test-cluster/up");
    String plaintext = "kw-plaintext-" + UUID.randomUUID();
    fixture.createSecret(
        ns.name(), "imported", "password", plaintext.getBytes(StandardCharsets.UTF_8));
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: imported}
        spec:
          fromSecret: {name: imported, key: password}
        """);
    ManagedSecret ready = fixture.awaitReady(ns.name(), "imported");
    // The user's own source Secret is the one place the plaintext was; once it is gone, nothing may
    // hold it.
    fixture.client.secrets().inNamespace(ns.name()).withName("imported").delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                fixture.client.secrets().inNamespace(ns.name()).withName("imported").get() == null);

    EtcdReader reader = new EtcdReader(etcd);
    List<byte[]> needles =
        List.of(
            plaintext.getBytes(StandardCharsets.UTF_8),
            b64(plaintext).getBytes(StandardCharsets.UTF_8));
    assertThat(reader.keysContaining("/", needles)).as("etcd keys holding the plaintext").isEmpty();

    String ciphertextKey =
        "/registry/secrets/"
            + fixture.namespace
            + "/"
            + CiphertextStore.objectName(
                ready.getMetadata().getUid(), ready.getStatus().getCurrentVersionId());
    assertThat(reader.readAll(ciphertextKey))
        .as("the ciphertext object in etcd")
        .containsKey(ciphertextKey);
    assertThat(reader.readAll("/registry/keywarden.io/managedsecrets/" + ns.name() + "/imported"))
        .hasSize(1);
  }

  @Test
  void flippingOneByteOfTheCiphertextFailsLoudly(TestNamespace ns) {
    ManagedSecret secret = createSynced(ns, "tampered");
    Secret ciphertext = fixture.ciphertext(secret, secret.getStatus().getCurrentVersionId());
    byte[] envelope =
        Base64.getDecoder().decode(ciphertext.getData().get(CiphertextStore.ENVELOPE_KEY));
    envelope[envelope.length - 1] ^= 0x01;
    ciphertext
        .getData()
        .put(CiphertextStore.ENVELOPE_KEY, Base64.getEncoder().encodeToString(envelope));
    fixture.client.resource(ciphertext).update();

    Condition degraded =
        fixture.awaitCondition(ns.name(), "tampered", "Degraded", "True", "DecryptionFailed");

    assertThat(degraded.getMessage())
        .contains(secret.getStatus().getCurrentVersionId())
        .contains("authentication tag mismatch");
    // The Event follows the status write.
    fixture.awaitEvent(ns.name(), e -> assertThat(e.getReason()).isEqualTo("DecryptionFailed"));
  }

  @Test
  void ciphertextCopiedToAnotherManagedSecretDoesNotDecrypt(TestNamespace ns) {
    ManagedSecret source = createSynced(ns, "source");
    ManagedSecret target = createSynced(ns, "target");
    String sourceEnvelope =
        fixture
            .ciphertext(source, source.getStatus().getCurrentVersionId())
            .getData()
            .get(CiphertextStore.ENVELOPE_KEY);
    Secret targetCiphertext = fixture.ciphertext(target, target.getStatus().getCurrentVersionId());
    targetCiphertext.getData().put(CiphertextStore.ENVELOPE_KEY, sourceEnvelope);
    fixture.client.resource(targetCiphertext).update();

    Condition degraded =
        fixture.awaitCondition(ns.name(), "target", "Degraded", "True", "DecryptionFailed");

    assertThat(degraded.getMessage()).contains("belongs to another secret or version");
  }

  /**
   * No live ciphertext is left; with the default recovery window of 7 days it is kept, relabelled,
   * for a restore (RecoveryWindowIT covers the window).
   */
  @Test
  void deletingTheManagedSecretRemovesItsCiphertext(TestNamespace ns) {
    ManagedSecret secret = createSynced(ns, "short-lived");
    String uid = secret.getMetadata().getUid();
    assertThat(
            fixture
                .client
                .secrets()
                .inNamespace(fixture.namespace)
                .withLabel(CiphertextStore.LABEL_SECRET_UID, uid)
                .list()
                .getItems())
        .hasSize(1);

    fixture
        .client
        .resources(ManagedSecret.class)
        .inNamespace(ns.name())
        .withName("short-lived")
        .delete();

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> fixture.get(ns.name(), "short-lived") == null);
    assertThat(
            fixture
                .client
                .secrets()
                .inNamespace(fixture.namespace)
                .withLabel(CiphertextStore.LABEL_SECRET_UID, uid)
                .list()
                .getItems())
        .isEmpty();
    assertThat(
            fixture
                .client
                .secrets()
                .inNamespace(fixture.namespace)
                .withLabel(io.keywarden.operator.versions.DeletedSecrets.LABEL_DELETED_UID, uid)
                .withoutLabel(io.keywarden.operator.versions.DeletedSecrets.LABEL_RECORD)
                .list()
                .getItems())
        .as("kept for the default recovery window")
        .hasSize(1);
  }

  @Test
  void restartedOperatorStillDecryptsWithThePersistedMasterKey(TestNamespace ns) {
    createSynced(ns, "durable");
    String before = fixture.awaitSynced(ns.name(), "durable-plain", "value");
    Secret masterKeys =
        fixture
            .client
            .secrets()
            .inNamespace(fixture.namespace)
            .withName("keywarden-master-keys")
            .get();

    fixture.operator.stop();
    fixture.client.secrets().inNamespace(ns.name()).withName("durable-plain").delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                fixture.client.secrets().inNamespace(ns.name()).withName("durable-plain").get()
                    == null);
    fixture.operator.start();

    assertThat(fixture.awaitSynced(ns.name(), "durable-plain", "value")).isEqualTo(before);
    assertThat(
            fixture
                .client
                .secrets()
                .inNamespace(fixture.namespace)
                .withName("keywarden-master-keys")
                .get()
                .getData())
        .isEqualTo(masterKeys.getData());
    assertThat(fixture.operator.logText())
        .doesNotContain(before)
        .doesNotContain(masterKeys.getData().values().iterator().next());
  }

  private ManagedSecret createSynced(TestNamespace ns, String name) {
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: %s}
        spec:
          generate: {}
          syncToSecret: {name: %s-plain}
        """
            .formatted(name, name));
    fixture.awaitReady(ns.name(), name);
    fixture.awaitSynced(ns.name(), name + "-plain", "value");
    return fixture.get(ns.name(), name);
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
