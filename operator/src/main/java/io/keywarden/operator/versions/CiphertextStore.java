package io.keywarden.operator.versions;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.Sha256;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Base64;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Envelopes in core Secrets of the operator namespace, one Secret per version: tenants cannot edit
 * them, and 100 versions of 64 KiB never meet etcd's 1.5 MiB object limit.
 */
@ApplicationScoped
public class CiphertextStore {

  /** Ciphertext Secrets: which ManagedSecret (by uid) and which version they hold. */
  public static final String LABEL_SECRET_UID = "keywarden.io/secret-uid";

  public static final String LABEL_SECRET_NAMESPACE = "keywarden.io/secret-namespace";
  public static final String ANNOTATION_SECRET_NAME = "keywarden.io/secret-name";
  public static final String ANNOTATION_VERSION_ID = "keywarden.io/version-id";
  public static final String CIPHERTEXT_TYPE = "keywarden.io/ciphertext";
  public static final String ENVELOPE_KEY = "envelope";

  private final KubernetesClient client;
  private final String namespace;

  public CiphertextStore(KubernetesClient client, KeywardenConfig config) {
    this.client = client;
    this.namespace = config.namespace();
  }

  public String namespace() {
    return namespace;
  }

  /**
   * The Secret holding a version. Ids that are DNS labels (every id Keywarden makes, and the UUIDs
   * AWS SDKs send as ClientRequestToken) appear as they are; any other id (AWS allows any 32-64
   * characters) as ".h" and a SHA-256 prefix of it, which no plain id can spell since plain ids
   * have no '.'. The annotation keeps the id itself.
   */
  public static String objectName(String uid, String versionId) {
    if (isDnsLabel(versionId)) {
      return "kw-" + uid + "-" + versionId;
    }
    return "kw-" + uid + ".h" + java.util.HexFormat.of().formatHex(Sha256.ofUtf8(versionId), 0, 20);
  }

  /**
   * Whether the id is a DNS label as RFC 1123 and Kubernetes spell it ({@code
   * [a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?}, at most 63 characters) widened to 64, the longest id AWS
   * allows. Checked by hand: every cached read names its version's object, and the regex was 1.6 %
   * of one.
   */
  static boolean isDnsLabel(String id) {
    int n = id.length();
    if (n < 1 || n > 64 || id.charAt(0) == '-' || id.charAt(n - 1) == '-') {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = id.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return false;
      }
    }
    return true;
  }

  public static EncryptionContext context(ManagedSecret secret, String versionId) {
    return new EncryptionContext(
        secret.getMetadata().getNamespace(),
        secret.getMetadata().getName(),
        secret.getMetadata().getUid(),
        versionId);
  }

  /**
   * An envelope with the resourceVersion of the object it was read from, for a conditional replace.
   */
  public record Stored(Envelope envelope, String resourceVersion) {}

  public void put(ManagedSecret owner, String versionId, Envelope envelope) {
    client
        .secrets()
        .inNamespace(namespace)
        .resource(object(owner, versionId, envelope, null))
        .createOr(r -> r.update());
  }

  /**
   * Stores the envelope of a new version unless that version's object exists already: false then,
   * and nothing is changed. Two requests creating the same version id never both succeed.
   */
  public boolean create(ManagedSecret owner, String versionId, Envelope envelope) {
    try {
      client
          .secrets()
          .inNamespace(namespace)
          .resource(object(owner, versionId, envelope, null))
          .create();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return false;
      }
      throw e;
    }
  }

  /**
   * Creates the record of a new version through {@code create}: the controller passes its
   * informer's create, which caches the record for its next look and keeps its own write from
   * coming back as a watch event (and another reconciliation).
   */
  public void create(
      ManagedSecret owner, String versionId, Envelope envelope, UnaryOperator<Secret> create) {
    create.apply(object(owner, versionId, envelope, null));
  }

  /**
   * Replaces the envelope only if its object is still at {@code resourceVersion}. Returns false
   * when another writer changed it meanwhile (409) or it is gone (404): the caller re-reads.
   */
  public boolean replace(
      ManagedSecret owner, String versionId, Envelope envelope, String resourceVersion) {
    try {
      client
          .secrets()
          .inNamespace(namespace)
          .resource(object(owner, versionId, envelope, resourceVersion))
          .update();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409 || e.getCode() == 404) {
        return false;
      }
      throw e;
    }
  }

  private Secret object(
      ManagedSecret owner, String versionId, Envelope envelope, String resourceVersion) {
    String uid = owner.getMetadata().getUid();
    return new SecretBuilder()
        .withNewMetadata()
        .withName(objectName(uid, versionId))
        .withNamespace(namespace)
        .withResourceVersion(resourceVersion)
        .addToLabels(KeywardenApi.MANAGED_BY_LABEL, KeywardenApi.OPERATOR)
        .addToLabels(CiphertextStore.LABEL_SECRET_UID, uid)
        .addToLabels(CiphertextStore.LABEL_SECRET_NAMESPACE, owner.getMetadata().getNamespace())
        .addToAnnotations(CiphertextStore.ANNOTATION_SECRET_NAME, owner.getMetadata().getName())
        .addToAnnotations(CiphertextStore.ANNOTATION_VERSION_ID, versionId)
        .endMetadata()
        .withType(CiphertextStore.CIPHERTEXT_TYPE)
        .addToData(
            CiphertextStore.ENVELOPE_KEY, Base64.getEncoder().encodeToString(envelope.encode()))
        .build();
  }

  /** The envelope of a version, read from the API server (not a cache), or empty if it is gone. */
  public Optional<Envelope> get(ManagedSecret owner, String versionId) {
    return getStored(owner, versionId).map(Stored::envelope);
  }

  public Optional<Stored> getStored(ManagedSecret owner, String versionId) {
    return getStored(owner.getMetadata().getUid(), versionId);
  }

  /**
   * The envelope a version of the object with this uid left, live or kept after its deletion; only
   * {@link DeletedSecrets} asks for a uid that is not the caller's own object's.
   */
  Optional<Envelope> getByUid(String uid, String versionId) {
    return getStored(uid, versionId).map(Stored::envelope);
  }

  private Optional<Stored> getStored(String uid, String versionId) {
    Secret secret =
        client.secrets().inNamespace(namespace).withName(objectName(uid, versionId)).get();
    if (secret == null
        || secret.getData() == null
        || !secret.getData().containsKey(CiphertextStore.ENVELOPE_KEY)) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new Stored(
              Envelope.decode(
                  Base64.getDecoder().decode(secret.getData().get(CiphertextStore.ENVELOPE_KEY))),
              secret.getMetadata().getResourceVersion()));
    } catch (IllegalArgumentException e) {
      throw new CorruptEnvelopeException("ciphertext of version " + versionId + " is not base64");
    }
  }

  public void delete(String uid, String versionId) {
    client.secrets().inNamespace(namespace).withName(objectName(uid, versionId)).delete();
  }

  public void deleteAll(String uid) {
    client
        .secrets()
        .inNamespace(namespace)
        .withLabel(CiphertextStore.LABEL_SECRET_UID, uid)
        .delete();
  }

  /**
   * The versions of a KMS key that some stored envelope (of any secret, deleted ones within their
   * recovery window too) is wrapped with.
   */
  public java.util.Set<Integer> keyVersionsInUse(String kmsKeyId) {
    java.util.Set<Integer> inUse = new java.util.HashSet<>();
    java.util.List<Secret> all =
        new java.util.ArrayList<>(
            client.secrets().inNamespace(namespace).withLabel(LABEL_SECRET_UID).list().getItems());
    all.addAll(
        client
            .secrets()
            .inNamespace(namespace)
            .withLabel(DeletedSecrets.LABEL_DELETED_UID)
            .withoutLabel(DeletedSecrets.LABEL_RECORD)
            .list()
            .getItems());
    for (Secret stored : all) {
      String data = stored.getData() == null ? null : stored.getData().get(ENVELOPE_KEY);
      if (data == null) {
        continue;
      }
      Envelope envelope = Envelope.decode(Base64.getDecoder().decode(data));
      if (envelope.kmsKeyId().equals(kmsKeyId)) {
        inUse.add(envelope.keyVersion());
      }
    }
    return inUse;
  }
}
