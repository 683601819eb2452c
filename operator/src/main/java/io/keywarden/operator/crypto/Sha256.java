package io.keywarden.operator.crypto;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 (FIPS 180-4) digests, 32 bytes, through one {@link MessageDigest} per thread: {@code
 * MessageDigest.getInstance} looks the provider up on every call, which showed in the profile of a
 * cached GetSecretValue (a token digest, a data-key cache key and an ARN suffix per request).
 * {@code digest} resets the instance, so reuse is safe.
 */
public final class Sha256 {

  private static final ThreadLocal<MessageDigest> DIGEST =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("every Java platform must provide SHA-256", e);
            }
          });

  private Sha256() {}

  /** The digest of the concatenated parts. */
  public static byte[] of(byte[]... parts) {
    MessageDigest digest = DIGEST.get();
    for (byte[] part : parts) {
      digest.update(part);
    }
    return digest.digest();
  }

  /** The digest of the text's UTF-8 bytes. */
  public static byte[] ofUtf8(String text) {
    return of(text.getBytes(StandardCharsets.UTF_8));
  }
}
