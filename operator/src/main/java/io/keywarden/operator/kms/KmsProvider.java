package io.keywarden.operator.kms;

import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.failure.KmsException;

/**
 * A key management system that wraps and unwraps data keys. Keys are addressed by the provider's
 * own key id (local key name, AWS key ARN or alias, PKCS#11 label); master key material never
 * leaves the provider's responsibility.
 */
public interface KmsProvider {

  /** The provider type named in configuration: local, aws-kms, pkcs11. */
  String type();

  /**
   * A fresh 256-bit data key, returned in plaintext and wrapped under the key's primary version. By
   * default a random key from this JVM wrapped with {@link #wrapDataKey}, for providers whose KMS
   * has no data key generation of its own (local, pkcs11).
   */
  default DataKey generateDataKey(String keyId, EncryptionContext context) {
    byte[] dek = AesGcm.newKey();
    DataKey wrapped = wrapDataKey(keyId, dek, context);
    wrapped.wipe();
    return new DataKey(dek, wrapped.wrapped(), wrapped.keyVersion());
  }

  /**
   * Unwraps a data key. Throws {@link KmsException} when the provider refuses or cannot be reached.
   */
  byte[] decryptDataKey(String keyId, int keyVersion, byte[] wrappedDek, EncryptionContext context);

  /** Wraps an existing data key under the key's primary version (used to re-wrap and migrate). */
  DataKey wrapDataKey(String keyId, byte[] plaintextDek, EncryptionContext context);

  /** The version new data keys are wrapped with. */
  int primaryKeyVersion(String keyId);

  /** Adds a new primary version of the key; older versions keep unwrapping until retired. */
  int rotateKey(String keyId);

  /**
   * Retires versions of the key older than the primary that no stored envelope uses any more.
   * Providers that manage retirement themselves (AWS KMS keeps old key material) do nothing.
   */
  default void retireUnusedVersions(String keyId, java.util.Set<Integer> inUse) {}

  /** Throws {@link KmsException} when the provider cannot serve requests right now. */
  void checkHealth();

  /**
   * Throws {@link KmsException} when this key cannot serve requests right now: the provider is
   * unreachable, or the key is missing, disabled or not permitted. Providers whose keys cannot fail
   * one by one need not override it.
   */
  default void checkKey(String keyId) {
    checkHealth();
  }
}
