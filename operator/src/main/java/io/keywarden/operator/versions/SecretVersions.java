package io.keywarden.operator.versions;

import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.failure.MissingCiphertextException;
import io.keywarden.operator.kms.KmsKey;
import io.keywarden.operator.kms.KmsKeys;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Reads and adds versions: seals a value into a new envelope, stores it, and hands the status side
 * to the {@link VersionLedger}; decrypts a stored version for whoever may read it.
 */
@ApplicationScoped
public class SecretVersions {

  private static final Logger LOG = Logger.getLogger(SecretVersions.class);

  private final KmsKeys kmsKeys;
  private final EnvelopeCipher cipher;
  private final CiphertextStore store;
  private final VersionLedger ledger;

  public SecretVersions(
      KmsKeys kmsKeys, EnvelopeCipher cipher, CiphertextStore store, VersionLedger ledger) {
    this.kmsKeys = kmsKeys;
    this.cipher = cipher;
    this.store = store;
    this.ledger = ledger;
  }

  /** Decrypts a version; a missing or altered envelope is an error that names the version. */
  public SecretValue read(ManagedSecret secret, String versionId) {
    Envelope envelope =
        store
            .get(secret, versionId)
            .orElseThrow(
                () -> new MissingCiphertextException(versionId, "namespace " + store.namespace()));
    return unseal(secret, versionId, envelope);
  }

  public SecretValue unseal(ManagedSecret secret, String versionId, Envelope envelope) {
    try {
      return cipher.unseal(envelope, CiphertextStore.context(secret, versionId));
    } catch (CorruptEnvelopeException e) {
      throw new CorruptEnvelopeException("version " + versionId + ": " + e.getMessage(), e);
    }
  }

  /** Like {@link #unseal}, but null when the data key is not cached; never blocks. */
  public SecretValue unsealIfCached(ManagedSecret secret, String versionId, Envelope envelope) {
    try {
      return cipher.unsealIfCached(envelope, CiphertextStore.context(secret, versionId));
    } catch (CorruptEnvelopeException e) {
      throw new CorruptEnvelopeException("version " + versionId + ": " + e.getMessage(), e);
    }
  }

  /** Proves that a version's envelope decrypts, leaving no value and no cached data key behind. */
  public void verify(ManagedSecret secret, String versionId, Envelope envelope) {
    try {
      cipher.verify(envelope, CiphertextStore.context(secret, versionId));
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
        versionId, List.of(), VersionLedger.now(), key.alias(), envelope.keyVersion());
  }

  /** A stored version as the status lists it, from its envelope. */
  public SecretVersion describeStored(ManagedSecret secret, String versionId) {
    Envelope envelope =
        store
            .get(secret, versionId)
            .orElseThrow(
                () -> new MissingCiphertextException(versionId, "namespace " + store.namespace()));
    return new SecretVersion(
        versionId, List.of(), VersionLedger.now(), envelope.kmsKeyId(), envelope.keyVersion());
  }

  /** PutSecretValue: a new version that becomes CURRENT; the old CURRENT becomes PREVIOUS. */
  public SecretVersion putCurrent(ManagedSecret secret, SecretValue value) {
    SecretVersion version = store(secret, value);
    ledger.putCurrent(secret, version);
    LOG.infof(
        "%s/%s: new CURRENT version %s",
        secret.getMetadata().getNamespace(),
        secret.getMetadata().getName(),
        version.getVersionId());
    return version;
  }
}
