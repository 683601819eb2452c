package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.EnvelopeCipher;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.kms.KmsKey;
import io.keywarden.operator.kms.KmsKeys;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Reads and adds versions. Every status write goes through {@link #updateStatus} with the object's
 * resourceVersion, so concurrent writers (reconciler, API replicas, rotation) never overwrite each
 * other's versions: a conflict re-reads and re-applies the change.
 */
@ApplicationScoped
public class SecretVersions {

  private static final Logger LOG = Logger.getLogger(SecretVersions.class);
  private static final int CONFLICT_RETRIES = 8;

  private final KubernetesClient client;
  private final KmsKeys kmsKeys;
  private final EnvelopeCipher cipher;
  private final CiphertextStore store;

  public SecretVersions(
      KubernetesClient client, KmsKeys kmsKeys, EnvelopeCipher cipher, CiphertextStore store) {
    this.client = client;
    this.kmsKeys = kmsKeys;
    this.cipher = cipher;
    this.store = store;
  }

  /** Decrypts a version; a missing or altered envelope is an error that names the version. */
  public SecretValue read(ManagedSecret secret, String versionId) {
    Envelope envelope =
        store
            .get(secret, versionId)
            .orElseThrow(
                () ->
                    new CorruptEnvelopeException(
                        "ciphertext of version "
                            + versionId
                            + " is missing from namespace "
                            + store.namespace()));
    return unseal(secret, versionId, envelope);
  }

  public SecretValue unseal(ManagedSecret secret, String versionId, Envelope envelope) {
    try {
      return cipher.unseal(envelope, CiphertextStore.context(secret, versionId));
    } catch (CorruptEnvelopeException e) {
      throw new CorruptEnvelopeException("version " + versionId + ": " + e.getMessage(), e);
    }
  }

  /**
   * Encrypts and stores a new version without any label yet; the caller records it in the status.
   */
  public SecretVersion store(ManagedSecret secret, SecretValue value) {
    return storeAs(secret, UUID.randomUUID().toString(), value);
  }

  /**
   * Encrypts and stores a value under a version id reserved earlier (rotation reserves it first).
   */
  public SecretVersion storeAs(ManagedSecret secret, String versionId, SecretValue value) {
    KmsKey key = kmsKeys.resolve(secret.getSpec().getKmsKeyId());
    Envelope envelope = cipher.seal(key, CiphertextStore.context(secret, versionId), value);
    store.put(secret, versionId, envelope);
    return new SecretVersion(
        versionId, List.of(), ManagedSecretReconciler.now(), key.alias(), envelope.keyVersion());
  }

  /** A stored version as the status lists it with the PENDING label, from its envelope. */
  public SecretVersion describeStored(ManagedSecret secret, String versionId) {
    Envelope envelope =
        store
            .get(secret, versionId)
            .orElseThrow(
                () ->
                    new CorruptEnvelopeException(
                        "ciphertext of version "
                            + versionId
                            + " is missing from namespace "
                            + store.namespace()));
    return new SecretVersion(
        versionId,
        List.of(SecretVersion.PENDING),
        ManagedSecretReconciler.now(),
        envelope.kmsKeyId(),
        envelope.keyVersion());
  }

  /** PutSecretValue: a new version that becomes CURRENT; the old CURRENT becomes PREVIOUS. */
  public SecretVersion putCurrent(ManagedSecret secret, SecretValue value) {
    SecretVersion version = store(secret, value);
    updateStatus(
        secret,
        status -> {
          if (status.getVersions().stream()
              .noneMatch(v -> v.getVersionId().equals(version.getVersionId()))) {
            status
                .getVersions()
                .add(
                    0,
                    new SecretVersion(
                        version.getVersionId(),
                        List.of(),
                        version.getCreatedDate(),
                        version.getKmsKeyId(),
                        version.getKeyVersion()));
          }
          Stages.promote(status, version.getVersionId());
        });
    LOG.infof(
        "%s/%s: new CURRENT version %s",
        secret.getMetadata().getNamespace(),
        secret.getMetadata().getName(),
        version.getVersionId());
    return version;
  }

  /**
   * Applies {@code change} to the latest status and writes it with optimistic concurrency,
   * re-reading on conflict. Returns the object as stored.
   */
  public ManagedSecret updateStatus(ManagedSecret secret, Consumer<ManagedSecretStatus> change) {
    ManagedSecret current = secret;
    for (int attempt = 0; ; attempt++) {
      ManagedSecretStatus status =
          current.getStatus() == null ? new ManagedSecretStatus() : current.getStatus();
      change.accept(status);
      current.setStatus(status);
      try {
        return client.resource(current).updateStatus();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt >= CONFLICT_RETRIES) {
          throw e;
        }
        current =
            client
                .resources(ManagedSecret.class)
                .inNamespace(secret.getMetadata().getNamespace())
                .withName(secret.getMetadata().getName())
                .get();
        if (current == null) {
          throw new KubernetesClientException(
              "ManagedSecret " + secret.getMetadata().getName() + " was deleted", 404, null);
        }
      }
    }
  }
}
