package io.keywarden.operator.kms;

import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A data key wrapped with AES-GCM by a provider that holds AES master keys (local, pkcs11): stored
 * as {@code nonce || ciphertext-with-tag}. Both providers authenticate the same additional data,
 * the encryption context plus the master key id and version, so a wrapped key cannot be moved to
 * another secret, version or master key.
 */
public record GcmWrappedKey(byte[] nonce, byte[] ciphertext) {

  public byte[] encode() {
    byte[] out = Arrays.copyOf(nonce, nonce.length + ciphertext.length);
    System.arraycopy(ciphertext, 0, out, nonce.length, ciphertext.length);
    return out;
  }

  public static GcmWrappedKey decode(byte[] wrapped) {
    if (wrapped.length <= AesGcm.NONCE_BYTES) {
      throw new CorruptEnvelopeException("wrapped data key is truncated");
    }
    return new GcmWrappedKey(
        Arrays.copyOf(wrapped, AesGcm.NONCE_BYTES),
        Arrays.copyOfRange(wrapped, AesGcm.NONCE_BYTES, wrapped.length));
  }

  public static byte[] aad(EncryptionContext context, String keyId, int version) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(context.toAad());
    out.writeBytes(("|" + keyId + "|" + version).getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }
}
