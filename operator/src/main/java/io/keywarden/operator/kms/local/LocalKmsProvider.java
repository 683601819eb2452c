package io.keywarden.operator.kms.local;

import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.crypto.CorruptEnvelopeException;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.kms.DataKey;
import io.keywarden.operator.kms.KmsException;
import io.keywarden.operator.kms.KmsProvider;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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
  public DataKey generateDataKey(String keyId, EncryptionContext context) {
    byte[] dek = AesGcm.newKey();
    DataKey wrapped = wrapDataKey(keyId, dek, context);
    return new DataKey(dek, wrapped.wrapped(), wrapped.keyVersion());
  }

  @Override
  public DataKey wrapDataKey(String keyId, byte[] plaintextDek, EncryptionContext context) {
    MasterKeyStore.MasterKey master = store.primary(keyId);
    AesGcm.Sealed sealed = AesGcm.encrypt(master.material(), plaintextDek, aad(keyId, master.version(), context));
    byte[] wrapped = new byte[sealed.nonce().length + sealed.ciphertext().length];
    System.arraycopy(sealed.nonce(), 0, wrapped, 0, sealed.nonce().length);
    System.arraycopy(sealed.ciphertext(), 0, wrapped, sealed.nonce().length, sealed.ciphertext().length);
    return new DataKey(plaintextDek.clone(), wrapped, master.version());
  }

  @Override
  public byte[] decryptDataKey(String keyId, int keyVersion, byte[] wrappedDek, EncryptionContext context) {
    MasterKeyStore.MasterKey master = store.version(keyId, keyVersion);
    if (wrappedDek.length <= AesGcm.NONCE_BYTES) {
      throw new CorruptEnvelopeException("wrapped data key is truncated");
    }
    byte[] nonce = Arrays.copyOf(wrappedDek, AesGcm.NONCE_BYTES);
    byte[] ciphertext = Arrays.copyOfRange(wrappedDek, AesGcm.NONCE_BYTES, wrappedDek.length);
    return AesGcm.decrypt(master.material(), nonce, ciphertext, aad(keyId, keyVersion, context));
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
      throw new KmsException("KmsUnavailable", "local master keys cannot be loaded: " + e.getMessage(), e);
    }
  }

  private static byte[] aad(String keyId, int version, EncryptionContext context) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(context.toAad());
    out.writeBytes(("|" + keyId + "|" + version).getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }
}
