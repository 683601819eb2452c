package io.keywarden.operator.managedsecret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.api.ApiClient;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.operator.versions.DeletedSecrets;
import io.keywarden.testcluster.EtcdReader;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * issue 18: deleting a ManagedSecret, or its namespace, keeps its versions for the recovery window;
 * a ManagedSecret created again with keywarden.io/restore brings them back, same ids, stages and
 * values; the window's end purges them. A day lasts {@link #DAY} here.
 */
@KubernetesIT
class RecoveryWindowIT {

  static final Duration DAY = Duration.ofSeconds(3);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static OperatorFixture fixture;
  private static ApiClient api;
  private static final List<String> VALUES = new ArrayList<>();

  @BeforeAll
  static void start(TestCluster cluster) throws Exception {
    fixture =
        new OperatorFixture(
                cluster,
                Map.of(
                    "KEYWARDEN_RECOVERY_DAY_LENGTH",
                    DAY.toMillis() + "ms",
                    "KEYWARDEN_RECOVERY_PURGE_INTERVAL",
                    "500ms"))
            .start();
    api = new ApiClient("https://127.0.0.1:" + fixture.apiPort, fixture.apiCa());
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.closeCheckingLogNeverContains(VALUES);
    }
  }

  @Test
  void deletedSecretIsRestoredWithItsVersionsStagesAndValues(TestNamespace ns) throws Exception {
    Map<String, Version> before = secretWithThreeVersions(ns.name(), "db", 30);
    ManagedSecret live = fixture.get(ns.name(), "db");

    fixture.client.resource(live).delete();
    await().atMost(Duration.ofSeconds(30)).until(() -> fixture.get(ns.name(), "db") == null);

    // Kept in the operator namespace: one record, the ciphertext relabelled, nothing in the
    // tenant's.
    Secret record = awaitRecord(live);
    Instant deletedAt =
        Instant.parse(
            record.getMetadata().getAnnotations().get(DeletedSecrets.ANNOTATION_DELETED_AT));
    Instant purgeAt = DeletedSecrets.purgeAt(record);
    assertThat(Duration.between(deletedAt, purgeAt)).isEqualTo(DAY.multipliedBy(30));
    assertThat(kept(live)).hasSize(3);
    assertThat(live(live)).isEmpty();
    assertThat(fixture.client.v1().events().inNamespace(fixture.namespace).list().getItems())
        .anySatisfy(
            e -> {
              assertThat(e.getReason()).isEqualTo(ManagedSecretConditions.DELETION_SCHEDULED);
              assertThat(e.getMessage()).contains(ns.name() + "/db").contains(purgeAt.toString());
            });
    assertThat(fixture.client.v1().events().inNamespace(ns.name()).list().getItems())
        .anySatisfy(
            e -> assertThat(e.getReason()).isEqualTo(ManagedSecretConditions.DELETION_SCHEDULED));
    awaitMetric(ns.name(), "db", purgeAt.getEpochSecond());

    ManagedSecret restored = createRestoring(ns.name(), "db", "true");

    assertSameVersions(restored, before);
    assertThat(restored.getMetadata().getUid()).isNotEqualTo(live.getMetadata().getUid());
    assertValues(ns.name(), "db", before);
    // The record and the old ciphertext went with the restore; the new uid holds the versions.
    await().atMost(Duration.ofSeconds(10)).until(() -> records(live).isEmpty());
    assertThat(kept(live)).isEmpty();
    assertThat(live(restored)).hasSize(3);
    assertThat(fixture.client.v1().events().inNamespace(ns.name()).list().getItems())
        .anySatisfy(
            e -> {
              assertThat(e.getReason()).isEqualTo(ManagedSecretConditions.RESTORED);
              assertThat(e.getMessage()).contains("restored 3 version(s)");
            });
    assertNoPlaintextInEtcd(ns.name(), "db", before);
  }

  @Test
  void deletedNamespaceIsRecreatedAndItsSecretsRestored(TestNamespace unused) throws Exception {
    String ns = "kw-recover-" + UUID.randomUUID().toString().substring(0, 8);
    createNamespace(ns);
    Map<String, Version> first = secretWithThreeVersions(ns, "first", 30);
    Map<String, Version> second = secretWithThreeVersions(ns, "second", 30);
    ManagedSecret firstLive = fixture.get(ns, "first");

    fixture.client.namespaces().withName(ns).delete();
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> fixture.client.namespaces().withName(ns).get() == null);
    assertThat(kept(firstLive)).hasSize(3);

    createNamespace(ns);
    try {
      assertSameVersions(createRestoring(ns, "first", "true"), first);
      assertSameVersions(createRestoring(ns, "second", "true"), second);
      assertValues(ns, "first", first);
      assertValues(ns, "second", second);
    } finally {
      fixture.client.namespaces().withName(ns).delete();
    }
  }

  @Test
  void windowEndPurgesAndALaterRestoreIsRefusedClearly(TestNamespace ns) throws Exception {
    Map<String, Version> before = secretWithThreeVersions(ns.name(), "short", 7);
    ManagedSecret live = fixture.get(ns.name(), "short");
    fixture.client.resource(live).delete();
    Secret record = awaitRecord(live);
    Instant purgeAt = DeletedSecrets.purgeAt(record);

    await()
        .atMost(DAY.multipliedBy(7).plusSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> records(live).isEmpty() && kept(live).isEmpty());
    assertThat(Instant.now()).isAfterOrEqualTo(purgeAt);
    assertThat(fixture.client.v1().events().inNamespace(fixture.namespace).list().getItems())
        .anySatisfy(
            e -> {
              assertThat(e.getReason()).isEqualTo(ManagedSecretConditions.PURGED);
              assertThat(e.getMessage()).contains(ns.name() + "/short");
            });
    await().atMost(Duration.ofSeconds(10)).until(() -> purgeMetric(ns.name(), "short") == null);

    fixture.apply(ns.name(), restoring("short", "true", 7));
    var refused =
        fixture.awaitCondition(
            ns.name(), "short", "Ready", "False", ManagedSecretConditions.RECOVERY_NOT_FOUND);
    assertThat(refused.getMessage())
        .contains("metadata.annotations[keywarden.io/restore]")
        .contains("none is within its recovery window");
    assertThat(fixture.get(ns.name(), "short").getStatus().getVersions()).isEmpty();
    assertThat(before).isNotEmpty();
  }

  @Test
  void restoreIntoAnotherNameIsRefusedAndLeavesTheRecord(TestNamespace ns) throws Exception {
    secretWithThreeVersions(ns.name(), "orig", 30);
    ManagedSecret live = fixture.get(ns.name(), "orig");
    fixture.client.resource(live).delete();
    awaitRecord(live);

    fixture.apply(ns.name(), restoring("other", "true", 30));
    assertThat(
            fixture
                .awaitCondition(
                    ns.name(),
                    "other",
                    "Ready",
                    "False",
                    ManagedSecretConditions.RECOVERY_NOT_FOUND)
                .getMessage())
        .contains(ns.name() + "/other");
    // Naming the source in the annotation is no way around it.
    fixture.apply(ns.name(), restoring("third", ns.name() + "/orig", 30));
    assertThat(
            fixture
                .awaitCondition(
                    ns.name(), "third", "Ready", "False", ManagedSecretConditions.INVALID_SPEC)
                .getMessage())
        .contains("restoring into another namespace or name is refused");
    assertThat(records(live)).hasSize(1);
    assertThat(kept(live)).hasSize(3);
  }

  @Test
  void killedOperatorNeitherLosesNorPurgesEarly(TestNamespace ns) throws Exception {
    Map<String, Version> before = secretWithThreeVersions(ns.name(), "durable", 30);
    secretWithThreeVersions(ns.name(), "expiring", 7);
    ManagedSecret durable = fixture.get(ns.name(), "durable");
    ManagedSecret expiring = fixture.get(ns.name(), "expiring");
    fixture.client.resource(durable).delete();
    fixture.client.resource(expiring).delete();
    Instant durablePurge = DeletedSecrets.purgeAt(awaitRecord(durable));
    Instant expiringPurge = DeletedSecrets.purgeAt(awaitRecord(expiring));

    fixture.operator.kill();
    await().atMost(Duration.ofSeconds(5)).until(() -> !fixture.operator.isAlive());
    fixture.restartWith(Map.of());

    // The new process finds the same purge times, keeps everything until them, then purges.
    assertThat(DeletedSecrets.purgeAt(records(durable).get(0))).isEqualTo(durablePurge);
    assertThat(DeletedSecrets.purgeAt(records(expiring).get(0))).isEqualTo(expiringPurge);
    while (Instant.now().isBefore(expiringPurge.minusMillis(500))) {
      assertThat(records(expiring)).as("record before its purge time").hasSize(1);
      assertThat(kept(expiring)).as("ciphertext before its purge time").hasSize(3);
      Thread.sleep(200);
    }
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> records(expiring).isEmpty() && kept(expiring).isEmpty());
    assertThat(Instant.now()).isAfterOrEqualTo(expiringPurge);
    assertThat(Instant.now()).isBefore(durablePurge);
    assertSameVersions(createRestoring(ns.name(), "durable", "true"), before);
    assertValues(ns.name(), "durable", before);
  }

  // ---- helpers

  record Version(String value, List<String> stages) {}

  /**
   * A ManagedSecret imported from a known value, then two values put through the API: CURRENT,
   * PREVIOUS and one deprecated version, all read back through the API.
   */
  private static Map<String, Version> secretWithThreeVersions(String ns, String name, int days)
      throws Exception {
    String first = "kw-first-" + UUID.randomUUID();
    fixture.createSecret(ns, name + "-source", "v", first.getBytes(StandardCharsets.UTF_8));
    fixture.apply(
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: %s}
        spec:
          fromSecret: {name: %s-source, key: v}
          access: [{name: app, actions: [get, update]}]
          deletion: {recoveryWindowDays: %d}
        """
            .formatted(name, name, days));
    fixture.awaitReady(ns, name);
    VALUES.add(first);
    String token = token(ns);
    for (int i = 0; i < 2; i++) {
      String value = "kw-put-" + i + "-" + UUID.randomUUID();
      VALUES.add(value);
      await()
          .atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  api.put(path(ns, name) + "/value", token, "{\"SecretString\":\"" + value + "\"}")
                      .statusCode(),
              s -> s == 200);
    }
    ManagedSecret secret = fixture.get(ns, name);
    assertThat(secret.getStatus().getVersions()).hasSize(3);
    Map<String, Version> versions = new LinkedHashMap<>();
    for (SecretVersion v : secret.getStatus().getVersions()) {
      versions.put(v.getVersionId(), new Version(value(ns, name, v.getVersionId()), v.getStages()));
    }
    assertThat(versions.values().stream().map(Version::value)).contains(first);
    return versions;
  }

  private static String token(String ns) {
    return fixture.serviceAccountToken(ns, "app", "keywarden.io");
  }

  private static String value(String ns, String name, String versionId) throws Exception {
    String token = token(ns);
    HttpResponse<String> response =
        await()
            .atMost(Duration.ofSeconds(15))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> api.get(path(ns, name) + "/value?versionId=" + versionId, token),
                r -> r.statusCode() == 200);
    JsonNode body = JSON.readTree(response.body());
    return body.get("SecretString").asText();
  }

  private static String path(String ns, String name) {
    return "/v1/namespaces/" + ns + "/managedsecrets/" + name;
  }

  static String restoring(String name, String restore, int days) {
    return """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata:
          name: %s
          annotations: {keywarden.io/restore: "%s"}
        spec:
          generate: {}
          access: [{name: app, actions: [get, update]}]
          deletion: {recoveryWindowDays: %d}
        """
        .formatted(name, restore, days);
  }

  private static ManagedSecret createRestoring(String ns, String name, String restore) {
    fixture.apply(ns, restoring(name, restore, 30));
    return fixture.awaitReady(ns, name);
  }

  private static void assertSameVersions(ManagedSecret restored, Map<String, Version> before) {
    Map<String, List<String>> stages = new LinkedHashMap<>();
    restored.getStatus().getVersions().forEach(v -> stages.put(v.getVersionId(), v.getStages()));
    Map<String, List<String>> expected = new LinkedHashMap<>();
    before.forEach((id, v) -> expected.put(id, v.stages()));
    assertThat(stages).containsExactlyEntriesOf(expected);
    String current =
        before.entrySet().stream()
            .filter(e -> e.getValue().stages().contains(SecretVersion.CURRENT))
            .map(Map.Entry::getKey)
            .findFirst()
            .orElseThrow();
    assertThat(restored.getStatus().getCurrentVersionId()).isEqualTo(current);
  }

  private static void assertValues(String ns, String name, Map<String, Version> before)
      throws Exception {
    for (var entry : before.entrySet()) {
      assertThat(value(ns, name, entry.getKey()))
          .as("value of version %s", entry.getKey())
          .isEqualTo(entry.getValue().value());
    }
  }

  private static void createNamespace(String ns) {
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () ->
                fixture
                        .client
                        .namespaces()
                        .resource(
                            new NamespaceBuilder()
                                .withNewMetadata()
                                .withName(ns)
                                .endMetadata()
                                .build())
                        .create()
                    != null);
  }

  private static Secret awaitRecord(ManagedSecret deleted) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> records(deleted), l -> l.size() == 1)
        .get(0);
  }

  private static List<Secret> records(ManagedSecret deleted) {
    return fixture
        .client
        .secrets()
        .inNamespace(fixture.namespace)
        .withLabel(DeletedSecrets.LABEL_RECORD, "true")
        .withLabel(DeletedSecrets.LABEL_DELETED_UID, deleted.getMetadata().getUid())
        .list()
        .getItems();
  }

  /** Ciphertext kept for a deleted object. */
  private static List<Secret> kept(ManagedSecret deleted) {
    return fixture
        .client
        .secrets()
        .inNamespace(fixture.namespace)
        .withLabel(DeletedSecrets.LABEL_DELETED_UID, deleted.getMetadata().getUid())
        .withoutLabel(DeletedSecrets.LABEL_RECORD)
        .list()
        .getItems();
  }

  /** Ciphertext of a live object. */
  private static List<Secret> live(ManagedSecret secret) {
    return fixture
        .client
        .secrets()
        .inNamespace(fixture.namespace)
        .withLabel(CiphertextStore.LABEL_SECRET_UID, secret.getMetadata().getUid())
        .list()
        .getItems();
  }

  private static String metrics() {
    return fixture.operator.http("/q/metrics").body();
  }

  /** The value of the purge-time series of this secret, or null while there is none. */
  private static Double purgeMetric(String ns, String name) {
    return metrics()
        .lines()
        .filter(l -> l.startsWith("keywarden_managedsecret_purge_timestamp_seconds{"))
        .filter(l -> l.contains("namespace=\"" + ns + "\"") && l.contains("name=\"" + name + "\""))
        .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .findFirst()
        .orElse(null);
  }

  private static void awaitMetric(String ns, String name, long epochSeconds) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> purgeMetric(ns, name), v -> v != null && v == (double) epochSeconds);
  }

  private static void assertNoPlaintextInEtcd(
      String ns, String name, Map<String, Version> versions) {
    String etcd = fixture.cluster.controlPlane().etcdEndpoint().orElse(null);
    Assumptions.assumeTrue(etcd != null, "needs the etcd of test-cluster/up");
    List<byte[]> needles = new ArrayList<>();
    for (Version v : versions.values()) {
      needles.add(v.value().getBytes(StandardCharsets.UTF_8));
      needles.add(
          Base64.getEncoder()
              .encodeToString(v.value().getBytes(StandardCharsets.UTF_8))
              .getBytes(StandardCharsets.UTF_8));
    }
    // The imported value's source Secret is the user's own copy; it goes first.
    fixture.client.secrets().inNamespace(ns).withName(name + "-source").delete();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                fixture.client.secrets().inNamespace(ns).withName(name + "-source").get() == null);
    assertThat(new EtcdReader(etcd).keysContaining("/", needles))
        .as("etcd keys holding a plaintext value")
        .isEmpty();
  }
}
