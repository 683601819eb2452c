package io.keywarden.operator.versions;

import io.fabric8.kubernetes.api.model.Secret;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.failure.MissingCiphertextException;
import io.keywarden.operator.failure.RequestException;
import io.keywarden.operator.kms.KmsKey;
import io.keywarden.operator.kms.KmsKeys;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;
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
   * Like {@link #store(ManagedSecret, SecretValue)}, with the record created through {@code create}
   * (see {@link CiphertextStore#create}).
   */
  public SecretVersion store(
      ManagedSecret secret, SecretValue value, UnaryOperator<Secret> create) {
    String versionId = UUID.randomUUID().toString();
    KmsKey key = kmsKeys.resolve(secret.getSpec().getKmsKeyId());
    Envelope envelope = cipher.seal(key, CiphertextStore.context(secret, versionId), value);
    store.create(secret, versionId, envelope, create);
    return new SecretVersion(
        versionId, List.of(), VersionLedger.now(), key.alias(), envelope.keyVersion());
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
    return describe(
        versionId,
        store
            .get(secret, versionId)
            .orElseThrow(
                () -> new MissingCiphertextException(versionId, "namespace " + store.namespace())));
  }

  /** A version as the status lists it, from the envelope already read. */
  public SecretVersion describe(String versionId, Envelope envelope) {
    return new SecretVersion(
        versionId, List.of(), VersionLedger.now(), envelope.kmsKeyId(), envelope.keyVersion());
  }

  /**
   * What a PutSecretValue did: the version as the status now lists it, whether this request made
   * it, and the ManagedSecret as this request wrote it (null when it wrote nothing).
   */
  public record Put(SecretVersion version, boolean created, ManagedSecret written) {}

  /**
   * PutSecretValue: a new version that becomes CURRENT; the old CURRENT becomes PREVIOUS. With a
   * request token (AWS's ClientRequestToken) the token is the version id, and AWS's idempotency
   * holds: a version with that id and the same value is answered as it is, without a new version;
   * with another value the request fails. The ciphertext object is created only if absent, so two
   * requests with the same token at once make one version, whichever stores first.
   */
  public Put putCurrent(ManagedSecret secret, SecretValue value, String requestToken) {
    String versionId = requestToken == null ? UUID.randomUUID().toString() : requestToken;
    var listed = listed(secret, versionId);
    if (listed != null) {
      requireSameValue(secret, versionId, value);
      return new Put(listed, false, null);
    }
    KmsKey key = kmsKeys.resolve(secret.getSpec().getKmsKeyId());
    Envelope envelope = cipher.seal(key, CiphertextStore.context(secret, versionId), value);
    if (store.create(secret, versionId, envelope)) {
      SecretVersion version =
          new SecretVersion(
              versionId, List.of(), VersionLedger.now(), key.alias(), envelope.keyVersion());
      ManagedSecret updated = ledger.putCurrent(secret, version);
      LOG.infof(
          "%s/%s: new CURRENT version %s",
          secret.getMetadata().getNamespace(), secret.getMetadata().getName(), versionId);
      return new Put(listedOr(updated, version), true, updated);
    }
    // Another request with the same token stored its value first.
    requireSameValue(secret, versionId, value);
    SecretVersion stored = describeStored(secret, versionId);
    ManagedSecret adopted = ledger.adoptPut(secret, stored);
    return new Put(listedOr(adopted, stored), false, adopted);
  }

  private void requireSameValue(ManagedSecret secret, String versionId, SecretValue value) {
    SecretValue existing = read(secret, versionId);
    try {
      if (!existing.sameAs(value)) {
        throw RequestException.resourceExists(
            "version "
                + versionId
                + " exists with another value; a ClientRequestToken names one version, which"
                + " cannot change: send a new ClientRequestToken for a new value");
      }
    } finally {
      existing.wipe();
    }
  }

  private static SecretVersion listed(ManagedSecret secret, String versionId) {
    return secret.getStatus() == null
        ? null
        : secret.getStatus().getVersions().stream()
            .filter(v -> v.getVersionId().equals(versionId))
            .findFirst()
            .orElse(null);
  }

  private static SecretVersion listedOr(ManagedSecret secret, SecretVersion fallback) {
    SecretVersion listed = listed(secret, fallback.getVersionId());
    return listed == null ? fallback : listed;
  }

  /** A value of the secret was read now (LastAccessedDate; at most one write per day). */
  public void accessed(ManagedSecret secret) {
    ledger.accessed(secret, Instant.now());
  }

  /** Whether {@link #accessed} would write nothing now: today's access is already recorded. */
  public boolean accessRecorded(ManagedSecret secret) {
    return VersionLedger.accessRecorded(secret, Instant.now());
  }
}
