package io.keywarden.operator.versions;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.ManagedSecretSpec;
import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.InvalidSpecException;
import io.keywarden.operator.kms.KmsKeys;
import io.keywarden.operator.kube.WithoutManagedFields;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The record of each ManagedSecret, and deleted ones within their recovery window (AWS Secrets
 * Manager's DeleteSecret with a RecoveryWindowInDays). A record is one Secret in the operator
 * namespace, named after the object's uid, holding what the status lists (versions, stages, spec:
 * never a value): kept in step with a live secret, so that object-level backups of the operator
 * namespace can be restored, and given the purge time in its own metadata when the secret is
 * deleted. A deleted secret's ciphertext stays where it was, relabelled from {@code
 * keywarden.io/secret-uid} to {@code keywarden.io/deleted-uid} so that no live secret or cache
 * takes it for its own. Tenants cannot reach any of it.
 *
 * <p>A restore re-binds each version to the new ManagedSecret's uid. The envelope's AAD and KMS
 * context bind namespace, name, uid and version, so the value is decrypted under the binding the
 * record holds (the old uid, found by the new object's own namespace and name) and sealed again
 * under the new uid with a fresh data key. The binding is never taken from anything the requester
 * writes: the restore annotation is only "true", and a record of another namespace or name is never
 * looked at.
 */
@ApplicationScoped
public class DeletedSecrets {

  private static final Logger LOG = Logger.getLogger(DeletedSecrets.class);

  /** Labels a deleted object's record and the ciphertext it keeps: the deleted object's uid. */
  public static final String LABEL_DELETED_UID = "keywarden.io/deleted-uid";

  /** Marks a record (the ciphertext carries only the uid labels). */
  public static final String LABEL_RECORD = "keywarden.io/recovery-record";

  /** Every record, live or deleted: the uid of the object it describes. */
  public static final String LABEL_RECORD_UID = "keywarden.io/record-uid";

  /** When the kept versions are purged (RFC 3339), on the record and on each kept ciphertext. */
  public static final String ANNOTATION_PURGE_AT = "keywarden.io/purge-at";

  public static final String ANNOTATION_DELETED_AT = "keywarden.io/deleted-at";
  public static final String RECORD_TYPE = "keywarden.io/recovery-record";
  static final String RECORD_KEY = "record";

  /** What a record holds: the deleted object's identity, spec and versions with their stages. */
  public record Deleted(
      String namespace,
      String name,
      String uid,
      String deletedAt,
      String purgeAt,
      ManagedSecretSpec spec,
      List<SecretVersion> versions,
      String currentVersionId,
      String previousVersionId,
      String pendingVersionId) {}

  /** A restore's outcome: the secret as stored, and versions whose ciphertext was gone. */
  public record Restored(ManagedSecret secret, Deleted from, List<String> missing) {}

  private final KubernetesClient client;
  private final CiphertextStore store;
  private final EnvelopeCipher cipher;
  private final KmsKeys kmsKeys;
  private final VersionLedger ledger;
  private final Duration dayLength;

  public DeletedSecrets(
      KubernetesClient client,
      CiphertextStore store,
      EnvelopeCipher cipher,
      KmsKeys kmsKeys,
      VersionLedger ledger,
      KeywardenConfig config) {
    this.client = client;
    this.store = store;
    this.cipher = cipher;
    this.kmsKeys = kmsKeys;
    this.ledger = ledger;
    this.dayLength = config.recovery().dayLength();
  }

  public static String recordName(String uid) {
    return "kw-record-" + uid;
  }

  private SharedIndexInformer<Secret> informer;

  void start(@Observes StartupEvent event) {
    informer =
        client
            .secrets()
            .inNamespace(store.namespace())
            .withLabel(LABEL_RECORD, "true")
            .runnableInformer(0)
            .itemStore(new WithoutManagedFields<>());
    informer.run();
  }

  void stop(@Observes ShutdownEvent event) {
    if (informer != null) {
      informer.close();
    }
  }

  /** Every record as the watch last saw it (live ones, and deleted ones until their purge). */
  public List<Secret> cachedRecords() {
    return informer == null || !informer.hasSynced() ? List.of() : informer.getStore().list();
  }

  /** Whether a record is of a deleted object (it then names its purge time). */
  public static boolean deleted(Secret record) {
    return record.getMetadata().getLabels().containsKey(LABEL_DELETED_UID);
  }

  /**
   * Keeps the record of a live secret in step with its status (versions, stages, spec), so that an
   * object-level backup of the operator namespace holds, beside the ciphertext, what the versions
   * were: the one trusted source a restore with new uids takes the binding and stages from. Written
   * only when it changed (compared with the watch cache), so steady reconciliations write nothing.
   */
  public void recordLive(ManagedSecret secret) {
    if (secret.getStatus() == null || secret.getStatus().getCurrentVersionId() == null) {
      return;
    }
    Deleted live = describe(secret, null, null);
    Secret cached =
        informer == null
            ? null
            : informer
                .getStore()
                .getByKey(store.namespace() + "/" + recordName(secret.getMetadata().getUid()));
    if (cached != null
        && !deleted(cached)
        && client.getKubernetesSerialization().asJson(live).equals(body(cached))) {
      return;
    }
    write(live, null, null);
  }

  private static String body(Secret record) {
    String data = record.getData() == null ? null : record.getData().get(RECORD_KEY);
    return data == null
        ? null
        : new String(Base64.getDecoder().decode(data), StandardCharsets.UTF_8);
  }

  /** Removes a record (a secret deleted without a window). */
  public void forget(String uid) {
    client.secrets().inNamespace(store.namespace()).withName(recordName(uid)).delete();
  }

  private Deleted describe(ManagedSecret secret, Instant deletedAt, Instant purgeAt) {
    ManagedSecretStatus status =
        secret.getStatus() == null ? new ManagedSecretStatus() : secret.getStatus();
    return new Deleted(
        secret.getMetadata().getNamespace(),
        secret.getMetadata().getName(),
        secret.getMetadata().getUid(),
        deletedAt == null ? null : deletedAt.toString(),
        purgeAt == null ? null : purgeAt.toString(),
        secret.getSpec(),
        status.getVersions(),
        status.getCurrentVersionId(),
        status.getPreviousVersionId(),
        status.getPendingVersionId());
  }

  private void write(Deleted record, Instant deletedAt, Instant purgeAt) {
    String json = client.getKubernetesSerialization().asJson(record);
    SecretBuilder builder =
        new SecretBuilder()
            .withNewMetadata()
            .withName(recordName(record.uid()))
            .withNamespace(store.namespace())
            .addToLabels(KeywardenApi.MANAGED_BY_LABEL, KeywardenApi.OPERATOR)
            .addToLabels(LABEL_RECORD, "true")
            .addToLabels(LABEL_RECORD_UID, record.uid())
            .addToLabels(CiphertextStore.LABEL_SECRET_NAMESPACE, record.namespace())
            .addToAnnotations(CiphertextStore.ANNOTATION_SECRET_NAME, record.name())
            .endMetadata()
            .withType(RECORD_TYPE)
            .addToData(
                RECORD_KEY,
                Base64.getEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8)));
    if (purgeAt != null) {
      builder
          .editMetadata()
          .addToLabels(LABEL_DELETED_UID, record.uid())
          .addToAnnotations(ANNOTATION_DELETED_AT, deletedAt.toString())
          .addToAnnotations(ANNOTATION_PURGE_AT, purgeAt.toString())
          .endMetadata();
    }
    client
        .secrets()
        .inNamespace(store.namespace())
        .resource(builder.build())
        .createOr(r -> r.update());
  }

  /**
   * When a deletion at {@code deletedAt} with a window of {@code days} ends: derived from the
   * deletion timestamp the apiserver set, so every replica and every retry computes the same.
   */
  public Instant purgeAt(Instant deletedAt, int days) {
    return deletedAt.plus(dayLength.multipliedBy(days));
  }

  /**
   * Keeps a deleted secret's versions until {@code purgeAt}: writes the record first, then relabels
   * the ciphertext. Idempotent, so the finalizer can run it again after a crash at any point; the
   * ManagedSecret goes only once both are done.
   */
  public Deleted retain(ManagedSecret secret, Instant deletedAt, Instant purgeAt) {
    String uid = secret.getMetadata().getUid();
    Deleted deleted = describe(secret, deletedAt, purgeAt);
    write(deleted, deletedAt, purgeAt);
    String patch =
        "{\"metadata\":{\"labels\":{\""
            + CiphertextStore.LABEL_SECRET_UID
            + "\":null,\""
            + LABEL_DELETED_UID
            + "\":\""
            + uid
            + "\"},\"annotations\":{\""
            + ANNOTATION_PURGE_AT
            + "\":\""
            + purgeAt
            + "\"}}}";
    for (Secret ciphertext :
        client
            .secrets()
            .inNamespace(store.namespace())
            .withLabel(CiphertextStore.LABEL_SECRET_UID, uid)
            .list()
            .getItems()) {
      client
          .secrets()
          .inNamespace(store.namespace())
          .withName(ciphertext.getMetadata().getName())
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    }
    return deleted;
  }

  /** The purge time a record's metadata names; records without one purge at once. */
  public static Instant purgeAt(Secret record) {
    String at =
        record.getMetadata().getAnnotations() == null
            ? null
            : record.getMetadata().getAnnotations().get(ANNOTATION_PURGE_AT);
    try {
      return at == null ? Instant.EPOCH : Instant.parse(at);
    } catch (java.time.format.DateTimeParseException e) {
      return Instant.EPOCH;
    }
  }

  public Deleted parse(Secret record) {
    String body = body(record);
    if (body == null) {
      throw new IllegalStateException(
          "recovery record " + record.getMetadata().getName() + " holds no record");
    }
    return client.getKubernetesSerialization().unmarshal(body, Deleted.class);
  }

  /**
   * What a restore of this namespace and name brings back: the most recent deletion whose window is
   * still open, else the record of an earlier object of that name that is no longer there (an
   * object-level backup restored into the operator namespace, whose ManagedSecret came back with a
   * new uid). Records are selected by the namespace label and the name annotation the operator
   * wrote, never by anything a requester names; {@code selfUid} (the restoring object, if it
   * exists) is never its own source.
   */
  public Optional<Secret> find(String namespace, String name, String selfUid, Instant now) {
    return client
        .secrets()
        .inNamespace(store.namespace())
        .withLabel(LABEL_RECORD, "true")
        .withLabel(CiphertextStore.LABEL_SECRET_NAMESPACE, namespace)
        .list()
        .getItems()
        .stream()
        .filter(
            r ->
                name.equals(
                    r.getMetadata().getAnnotations().get(CiphertextStore.ANNOTATION_SECRET_NAME)))
        .filter(r -> !r.getMetadata().getLabels().get(LABEL_RECORD_UID).equals(selfUid))
        .filter(r -> !deleted(r) || purgeAt(r).isAfter(now))
        .max(
            Comparator.comparing(
                r -> r.getMetadata().getAnnotations().getOrDefault(ANNOTATION_DELETED_AT, "")));
  }

  /**
   * Removes a deletion's kept ciphertext, then its record (last, so a purge cut short is found and
   * finished by the next run).
   */
  public void purge(String uid) {
    var secrets = client.secrets().inNamespace(store.namespace());
    secrets.withLabel(LABEL_DELETED_UID, uid).withoutLabel(LABEL_RECORD).delete();
    secrets.withLabel(CiphertextStore.LABEL_SECRET_UID, uid).delete();
    secrets.withName(recordName(uid)).delete();
  }

  /**
   * Brings back the versions of the most recent deletion of {@code secret}'s namespace and name,
   * re-bound to its uid, with their stages; then purges the record. Fails naming the annotation
   * when there is nothing within its window to restore.
   */
  public Restored restore(ManagedSecret secret, String field) {
    String namespace = secret.getMetadata().getNamespace();
    String name = secret.getMetadata().getName();
    Secret record =
        find(namespace, name, secret.getMetadata().getUid(), Instant.now())
            .orElseThrow(
                () ->
                    new InvalidSpecException(
                        field,
                        "asks to restore a deleted ManagedSecret "
                            + namespace
                            + "/"
                            + name
                            + ", but none is within its recovery window (never deleted, already"
                            + " restored, or purged); remove the annotation to make a new value",
                        ManagedSecretConditions.RECOVERY_NOT_FOUND));
    Deleted deleted = parse(record);
    // The record is selected by namespace and name; its body must say the same.
    if (!namespace.equals(deleted.namespace())
        || !name.equals(deleted.name())
        || !record.getMetadata().getLabels().get(LABEL_RECORD_UID).equals(deleted.uid())) {
      throw new IllegalStateException(
          "recovery record " + record.getMetadata().getName() + " does not match its labels");
    }
    List<SecretVersion> restored = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (SecretVersion version : deleted.versions()) {
      String versionId = version.getVersionId();
      Optional<Envelope> kept = store.getByUid(deleted.uid(), versionId);
      if (kept.isEmpty()) {
        missing.add(versionId);
        continue;
      }
      EncryptionContext from = new EncryptionContext(namespace, name, deleted.uid(), versionId);
      SecretValue value = cipher.unseal(kept.get(), from);
      try {
        Envelope rebound =
            cipher.seal(
                kmsKeys.resolve(kept.get().kmsKeyId()),
                CiphertextStore.context(secret, versionId),
                value);
        store.put(secret, versionId, rebound);
        restored.add(
            new SecretVersion(
                versionId,
                version.getStages(),
                version.getCreatedDate(),
                rebound.kmsKeyId(),
                rebound.keyVersion()));
      } finally {
        value.wipe();
      }
    }
    ManagedSecret stored =
        ledger.restored(
            secret,
            restored,
            present(restored, deleted.currentVersionId()),
            present(restored, deleted.previousVersionId()),
            present(restored, deleted.pendingVersionId()));
    purge(deleted.uid());
    LOG.infof(
        "%s/%s: restored %d version(s) of the ManagedSecret deleted at %s (uid %s)",
        namespace, name, restored.size(), deleted.deletedAt(), deleted.uid());
    return new Restored(stored, deleted, List.copyOf(missing));
  }

  private static String present(List<SecretVersion> versions, String id) {
    return id != null && versions.stream().anyMatch(v -> v.getVersionId().equals(id)) ? id : null;
  }
}
