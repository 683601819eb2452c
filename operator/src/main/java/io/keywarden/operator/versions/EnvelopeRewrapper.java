package io.keywarden.operator.versions;

import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.failure.ConflictException;
import io.keywarden.operator.kms.KmsKey;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Wraps the data keys of a secret's stored versions again under a KMS key. The value's nonce and
 * ciphertext never change, only the wrapped data key and the key it names. Each envelope is
 * replaced only if its object is unchanged since it was read (resourceVersion), so a re-wrap racing
 * another one (a rotation, another replica) re-reads instead of overwriting; the status then lists
 * each version's key as stored. Serves spec.kmsKeyId migration and rotateEncryptionKey.
 */
@ApplicationScoped
public class EnvelopeRewrapper {

  private static final int CONFLICT_RETRIES = 5;

  /** The secret as stored afterwards, how many envelopes were re-wrapped, and from which keys. */
  public record Result(ManagedSecret secret, int rewrapped, Set<String> fromKeys) {}

  private final CiphertextStore store;
  private final EnvelopeCipher cipher;
  private final VersionLedger ledger;

  public EnvelopeRewrapper(CiphertextStore store, EnvelopeCipher cipher, VersionLedger ledger) {
    this.store = store;
    this.cipher = cipher;
    this.ledger = ledger;
  }

  /**
   * Re-wraps every stored version whose envelope {@code stale} selects under {@code target}'s
   * primary version.
   */
  public Result rewrap(ManagedSecret secret, KmsKey target, Predicate<Envelope> stale) {
    Map<String, Envelope> stored = new HashMap<>();
    Set<String> from = new TreeSet<>();
    int rewrapped = 0;
    for (SecretVersion version : secret.getStatus().getVersions()) {
      String versionId = version.getVersionId();
      for (int attempt = 0; ; attempt++) {
        Optional<CiphertextStore.Stored> current = store.getStored(secret, versionId);
        if (current.isEmpty()) {
          break; // pruned meanwhile
        }
        Envelope envelope = current.get().envelope();
        if (!stale.test(envelope)) {
          stored.put(versionId, envelope);
          break;
        }
        Envelope next = cipher.rewrap(envelope, CiphertextStore.context(secret, versionId), target);
        if (store.replace(secret, versionId, next, current.get().resourceVersion())) {
          stored.put(versionId, next);
          from.add(envelope.kmsKeyId());
          rewrapped++;
          break;
        }
        if (attempt >= CONFLICT_RETRIES) {
          throw new ConflictException(
              "the ciphertext of version " + versionId + " keeps changing during a re-wrap");
        }
      }
    }
    boolean statusAgrees =
        secret.getStatus().getVersions().stream()
            .allMatch(
                v -> {
                  Envelope envelope = stored.get(v.getVersionId());
                  return envelope == null
                      || (envelope.kmsKeyId().equals(v.getKmsKeyId())
                          && Objects.equals(envelope.keyVersion(), v.getKeyVersion()));
                });
    Map<String, VersionLedger.KeyRef> keys = new HashMap<>();
    stored.forEach(
        (id, envelope) ->
            keys.put(id, new VersionLedger.KeyRef(envelope.kmsKeyId(), envelope.keyVersion())));
    ManagedSecret updated = statusAgrees ? secret : ledger.rewrapped(secret, keys);
    return new Result(updated, rewrapped, from);
  }
}
