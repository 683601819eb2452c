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
    fixture.awaitEvent(
        fixture.namespace,
        e -> {
          assertThat(e.getReason()).isEqualTo(ManagedSecretConditions.DELETION_SCHEDULED);
          assertThat(e.getMessage()).contains(ns.name() + "/db").contains(purgeAt.toString());
        });
    fixture.awaitEvent(
        ns.name(),
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
    fixture.awaitEvent(
        ns.name(),
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
    fixture.awaitEvent(
        fixture.namespace,
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
    // The kill may have come before the finalizer relabelled every version (it runs again after
    // the restart), so both labels count; a listing counts only if it was made before the purge
    // time.
    while (true) {
      String kept =
          records(expiring).size()
              + " record, "
              + (kept(expiring).size() + live(expiring).size())
              + " ciphertext";
      if (!Instant.now().isBefore(expiringPurge)) {
        break;
      }
      assertThat(kept).as("before the purge time").isEqualTo("1 record, 3 ciphertext");
      Thread.sleep(200);
    }
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                records(expiring).isEmpty()
                    && kept(expiring).isEmpty()
                    && live(expiring).isEmpty());
    assertThat(Instant.now()).isAfterOrEqualTo(expiringPurge);
    assertThat(Instant.now()).isBefore(durablePurge);
    assertSameVersions(createRestoring(ns.name(), "durable", "true"), before);
    assertValues(ns.name(), "durable", before);
  }

  @Test
  void awsDeleteSecretAndRestoreSecretNeedTheirVerbsAndBringEverythingBack(TestNamespace ns)
      throws Exception {
    Map<String, Version> before = secretWithThreeVersions(ns.name(), "aws", 30);
    ManagedSecret live = fixture.get(ns.name(), "aws");
    grant(ns.name(), "operator-of-aws", "aws", "delete", "restore");
    String admin = fixture.serviceAccountToken(ns.name(), "operator-of-aws", "keywarden.io");
    String reader = token(ns.name());

    // The reader may get and update, not delete. (awsJson answers client errors with 400 and the
    // error type, as AWS does.)
    HttpResponse<String> notAllowed = api.aws("DeleteSecret", reader, "{\"SecretId\":\"aws\"}");
    assertThat(notAllowed.statusCode()).isEqualTo(400);
    assertThat(notAllowed.body()).contains("AccessDeniedException");
    HttpResponse<String> badWindow =
        api.aws("DeleteSecret", admin, "{\"SecretId\":\"aws\",\"RecoveryWindowInDays\":3}");
    assertThat(badWindow.statusCode()).isEqualTo(400);
    assertThat(badWindow.body())
        .contains("InvalidParameterException")
        .contains("RecoveryWindowInDays");
    assertThat(
            api.aws(
                    "DeleteSecret",
                    admin,
                    "{\"SecretId\":\"aws\",\"RecoveryWindowInDays\":7,"
                        + "\"ForceDeleteWithoutRecovery\":true}")
                .statusCode())
        .isEqualTo(400);

    // (until the apiserver's RBAC cache has the new Role)
    HttpResponse<String> deleted =
        awaitOk(
            () ->
                api.aws(
                    "DeleteSecret", admin, "{\"SecretId\":\"aws\",\"RecoveryWindowInDays\":8}"));
    JsonNode answer = JSON.readTree(deleted.body());
    assertThat(answer.get("Name").asText()).isEqualTo("aws");
    Secret record = awaitRecord(live);
    assertThat(answer.get("DeletionDate").asLong())
        .isEqualTo(DeletedSecrets.purgeAt(record).getEpochSecond());
    Instant deletedAt =
        Instant.parse(
            record.getMetadata().getAnnotations().get(DeletedSecrets.ANNOTATION_DELETED_AT));
    assertThat(Duration.between(deletedAt, DeletedSecrets.purgeAt(record)))
        .as("the request's window, not the spec's 30 days")
        .isEqualTo(DAY.multipliedBy(8));

    // Restoring needs the restore verb; the reader has none.
    HttpResponse<String> denied = api.aws("RestoreSecret", reader, "{\"SecretId\":\"aws\"}");
    assertThat(denied.statusCode()).isEqualTo(400);
    assertThat(denied.body()).contains("AccessDeniedException");
    assertThat(records(live)).hasSize(1);
    // Another name has nothing to restore.
    grant(ns.name(), "operator-of-other", "other", "restore");
    String other = fixture.serviceAccountToken(ns.name(), "operator-of-other", "keywarden.io");
    HttpResponse<String> nothing =
        await()
            .atMost(Duration.ofSeconds(15))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> api.aws("RestoreSecret", other, "{\"SecretId\":\"other\"}"), r -> !denied(r));
    assertThat(nothing.statusCode()).isEqualTo(400);
    assertThat(nothing.body()).contains("ResourceNotFoundException").contains("other");

    HttpResponse<String> restored = api.aws("RestoreSecret", admin, "{\"SecretId\":\"aws\"}");
    assertThat(restored.statusCode()).as(restored.body()).isEqualTo(200);
    assertThat(JSON.readTree(restored.body()).get("Name").asText()).isEqualTo("aws");
    assertSameVersions(fixture.awaitReady(ns.name(), "aws"), before);
    assertValues(ns.name(), "aws", before);
    assertThat(fixture.get(ns.name(), "aws").getSpec().recoveryWindowDays()).isEqualTo(30);
    // Restoring a secret that exists is refused.
    assertThat(api.aws("RestoreSecret", admin, "{\"SecretId\":\"aws\"}").statusCode())
        .isEqualTo(400);
  }

  @Test
  void restDeleteAndRestoreWithForceAndWindow(TestNamespace ns) throws Exception {
    Map<String, Version> before = secretWithThreeVersions(ns.name(), "rest", 7);
    grant(ns.name(), "operator-of-rest", "rest", "delete", "restore");
    String admin = fixture.serviceAccountToken(ns.name(), "operator-of-rest", "keywarden.io");
    ManagedSecret live = fixture.get(ns.name(), "rest");

    assertThat(api.delete(path(ns.name(), "rest") + "?recoveryWindowInDays=31", admin).statusCode())
        .isEqualTo(400);
    HttpResponse<String> deleted =
        awaitOk(() -> api.delete(path(ns.name(), "rest") + "?recoveryWindowInDays=30", admin));
    assertThat(JSON.readTree(deleted.body()).get("DeletionDate").asText())
        .isEqualTo(DeletedSecrets.purgeAt(awaitRecord(live)).toString());
    HttpResponse<String> restored = api.post(path(ns.name(), "rest") + "/restore", admin);
    assertThat(restored.statusCode()).as(restored.body()).isEqualTo(200);
    ManagedSecret back = fixture.awaitReady(ns.name(), "rest");
    assertSameVersions(back, before);
    assertValues(ns.name(), "rest", before);

    // ForceDeleteWithoutRecovery: nothing kept, nothing to restore.
    HttpResponse<String> forced =
        api.delete(path(ns.name(), "rest") + "?forceDeleteWithoutRecovery=true", admin);
    assertThat(forced.statusCode()).as(forced.body()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> fixture.get(ns.name(), "rest") == null);
    assertThat(records(back)).isEmpty();
    assertThat(kept(back)).isEmpty();
    assertThat(live(back)).isEmpty();
    assertThat(api.post(path(ns.name(), "rest") + "/restore", admin).statusCode()).isEqualTo(404);
  }

  /**
   * issue 18 item 3, an object-level backup (what Velero does): export the ManagedSecret and the
   * operator namespace's ciphertext, record and master keys; wipe them all; restore them, so every
   * object gets a new uid; the same explicit restore brings the values back.
   */
  @Test
  void objectLevelBackupIsReadableAgainAfterRestoreWithNewUids(TestNamespace ns) throws Exception {
    Map<String, Version> before = secretWithThreeVersions(ns.name(), "backed", 7);
    ManagedSecret live = fixture.get(ns.name(), "backed");
    String uid = live.getMetadata().getUid();
    // The live record follows the status: all three versions and their stages.
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                operatorSecrets(DeletedSecrets.LABEL_RECORD_UID, uid).stream()
                    .anyMatch(
                        r -> before.keySet().stream().allMatch(id -> recordBody(r).contains(id))));

    // Export.
    String exported = fixture.client.getKubernetesSerialization().asYaml(live);
    List<Secret> backup = new ArrayList<>(operatorSecrets(CiphertextStore.LABEL_SECRET_UID, uid));
    assertThat(backup).hasSize(3);
    backup.addAll(operatorSecrets(DeletedSecrets.LABEL_RECORD_UID, uid));
    backup.add(
        fixture
            .client
            .secrets()
            .inNamespace(fixture.namespace)
            .withName("keywarden-master-keys")
            .get());
    assertThat(backup).hasSize(5);

    // Wipe: no operator, no ManagedSecret, no ciphertext, no record, no master key.
    fixture.operator.stop();
    fixture
        .client
        .resources(ManagedSecret.class)
        .inNamespace(ns.name())
        .withName("backed")
        .edit(
            s -> {
              s.getMetadata().setFinalizers(List.of());
              return s;
            });
    fixture.client.resource(live).delete();
    for (Secret secret : backup) {
      fixture.client.resource(secret).delete();
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                fixture.get(ns.name(), "backed") == null
                    && backup.stream()
                        .allMatch(
                            b ->
                                fixture
                                        .client
                                        .secrets()
                                        .inNamespace(fixture.namespace)
                                        .withName(b.getMetadata().getName())
                                        .get()
                                    == null));

    // Restore: the operator namespace first, then the operator, then the ManagedSecret, which asks
    // for the same explicit restore as after a deletion.
    for (Secret secret : backup) {
      secret.getMetadata().setUid(null);
      secret.getMetadata().setResourceVersion(null);
      secret.getMetadata().setCreationTimestamp(null);
      secret.getMetadata().setManagedFields(null);
      fixture.client.resource(secret).create();
    }
    fixture.restartWith(Map.of());
    ManagedSecret again =
        fixture.client.getKubernetesSerialization().unmarshal(exported, ManagedSecret.class);
    again.setStatus(null);
    again.getMetadata().setUid(null);
    again.getMetadata().setResourceVersion(null);
    again.getMetadata().setCreationTimestamp(null);
    again.getMetadata().setManagedFields(null);
    again.getMetadata().setFinalizers(null);
    again.getMetadata().setGeneration(null);
    again.getMetadata().getAnnotations().put(ManagedSecret.RESTORE_ANNOTATION, "true");
    fixture.client.resources(ManagedSecret.class).inNamespace(ns.name()).resource(again).create();

    ManagedSecret restored = fixture.awaitReady(ns.name(), "backed");
    assertThat(restored.getMetadata().getUid()).isNotEqualTo(uid);
    assertSameVersions(restored, before);
    assertValues(ns.name(), "backed", before);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> operatorSecrets(CiphertextStore.LABEL_SECRET_UID, uid).isEmpty());
    assertNoPlaintextInEtcd(ns.name(), "backed", before);
  }

  // ---- helpers

  private static List<Secret> operatorSecrets(String label, String value) {
    return fixture
        .client
        .secrets()
        .inNamespace(fixture.namespace)
        .withLabel(label, value)
        .list()
        .getItems();
  }

  private static String recordBody(Secret record) {
    return new String(
        Base64.getDecoder().decode(record.getData().get("record")), StandardCharsets.UTF_8);
  }

  private static HttpResponse<String> awaitOk(
      java.util.concurrent.Callable<HttpResponse<String>> call) {
    HttpResponse<String> response =
        await()
            .atMost(Duration.ofSeconds(15))
            .pollInterval(Duration.ofMillis(200))
            .until(call, r -> !denied(r));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return response;
  }

  /** Refused by RBAC: 403 on the REST paths, 400 AccessDeniedException on awsJson. */
  private static boolean denied(HttpResponse<String> response) {
    return response.statusCode() == 403 || response.body().contains("AccessDeniedException");
  }

  /**
   * A Role granting the verbs on one secret's value, bound to a ServiceAccount of the namespace.
   */
  private static void grant(String ns, String serviceAccount, String secret, String... verbs) {
    fixture.serviceAccountToken(ns, serviceAccount, "keywarden.io");
    fixture
        .client
        .rbac()
        .roles()
        .inNamespace(ns)
        .resource(
            new io.fabric8.kubernetes.api.model.rbac.RoleBuilder()
                .withNewMetadata()
                .withName(serviceAccount)
                .endMetadata()
                .addNewRule()
                .withApiGroups("keywarden.io")
                .withResources("managedsecrets/value")
                .withResourceNames(secret)
                .withVerbs(verbs)
                .endRule()
                .build())
        .create();
    fixture
        .client
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(
            new io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder()
                .withNewMetadata()
                .withName(serviceAccount)
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("Role")
                .withName(serviceAccount)
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(serviceAccount)
                .withNamespace(ns)
                .endSubject()
                .build())
        .create();
  }

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
