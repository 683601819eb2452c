package io.keywarden.operator.kms.local;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.failure.KmsException;
import io.keywarden.operator.kms.DataKey;
import io.keywarden.operator.kms.GcmWrappedKey;
import io.keywarden.operator.kms.KmsProvider;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The embedded default provider: versioned AES-256 master keys (see {@link MasterKeyStore}) wrap
 * data keys with AES-GCM, bound to the same encryption context as the value.
 */
@ApplicationScoped
public class LocalKmsProvider implements KmsProvider {

  public static final String TYPE = "local";

  private final MasterKeyStore store;

  public LocalKmsProvider(MasterKeyStore store) {
    this.store = store;
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public DataKey wrapDataKey(String keyId, byte[] plaintextDek, EncryptionContext context) {
    MasterKeyStore.MasterKey master = store.primary(keyId);
    AesGcm.Sealed sealed =
        AesGcm.encrypt(
            master.material(), plaintextDek, GcmWrappedKey.aad(context, keyId, master.version()));
    byte[] wrapped = new GcmWrappedKey(sealed.nonce(), sealed.ciphertext()).encode();
    return new DataKey(plaintextDek.clone(), wrapped, master.version());
  }

  @Override
  public byte[] decryptDataKey(
      String keyId, int keyVersion, byte[] wrappedDek, EncryptionContext context) {
    MasterKeyStore.MasterKey master = store.version(keyId, keyVersion);
    GcmWrappedKey wrapped = GcmWrappedKey.decode(wrappedDek);
    return AesGcm.decrypt(
        master.material(),
        wrapped.nonce(),
        wrapped.ciphertext(),
        GcmWrappedKey.aad(context, keyId, keyVersion));
  }

  @Override
  public int primaryKeyVersion(String keyId) {
    return store.primary(keyId).version();
  }

  @Override
  public int rotateKey(String keyId) {
    return store.addVersion(keyId);
  }

  @Override
  public void retireUnusedVersions(String keyId, java.util.Set<Integer> inUse) {
    store.retire(keyId, inUse);
  }

  @Override
  public void checkHealth() {
    try {
      store.load();
    } catch (RuntimeException e) {
      throw new KmsException(
          ManagedSecretConditions.KMS_UNAVAILABLE,
          "local master keys cannot be loaded: " + e.getMessage(),
          e);
    }
  }
}
