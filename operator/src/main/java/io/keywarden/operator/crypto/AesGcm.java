package io.keywarden.operator.crypto;

import io.keywarden.operator.failure.CorruptEnvelopeException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM through the JDK provider (AES-NI), with a fresh 96-bit random nonce per message. The
 * one bulk-cipher path of Keywarden: values and locally wrapped data keys both use it.
 */
public final class AesGcm {

  public static final int KEY_BYTES = 32;
  public static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();
  // One Cipher per thread, initialised afresh (key and nonce) for every message: getInstance looks
  // the provider up each time and was a visible share of a cached GetSecretValue. Reuse is safe
  // because init resets all state; GCM only refuses a re-init with the same key and nonce for
  // encryption, which a fresh random nonce never is.
  private static final ThreadLocal<Cipher> CIPHER =
      ThreadLocal.withInitial(
          () -> {
            try {
              return Cipher.getInstance("AES/GCM/NoPadding");
            } catch (GeneralSecurityException e) {
              throw new IllegalStateException("AES/GCM/NoPadding is not available", e);
            }
          });

  private AesGcm() {}

  public record Sealed(byte[] nonce, byte[] ciphertext) {}

  public static byte[] newKey() {
    byte[] key = new byte[KEY_BYTES];
    RANDOM.nextBytes(key);
    return key;
  }

  public static Sealed encrypt(byte[] key, byte[] plaintext, byte[] aad) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher cipher = CIPHER.get();
      cipher.init(
          Cipher.ENCRYPT_MODE,
          new SecretKeySpec(key, "AES"),
          new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(aad);
      return new Sealed(nonce, cipher.doFinal(plaintext));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    }
  }

  /**
   * Throws {@link CorruptEnvelopeException} when the tag does not verify: wrong key, AAD or altered
   * bytes.
   */
  public static byte[] decrypt(byte[] key, byte[] nonce, byte[] ciphertext, byte[] aad) {
    try {
      Cipher cipher = CIPHER.get();
      cipher.init(
          Cipher.DECRYPT_MODE,
          new SecretKeySpec(key, "AES"),
          new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(aad);
      return cipher.doFinal(ciphertext);
    } catch (AEADBadTagException e) {
      throw new CorruptEnvelopeException(
          "authentication tag mismatch: the ciphertext was altered or belongs to another secret or version",
          e);
    } catch (GeneralSecurityException e) {
      throw new CorruptEnvelopeException(
          "AES-GCM decryption failed: " + e.getClass().getSimpleName(), e);
    }
  }
}
