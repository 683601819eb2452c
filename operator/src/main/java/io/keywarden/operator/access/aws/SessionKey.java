package io.keywarden.operator.access.aws;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One session key, split by HMAC into two independent keys: one seals session tokens (AES-GCM), the
 * other derives each token's secret access key, so neither use can leak the other.
 */
public record SessionKey(int id, byte[] sealing, byte[] secrets) {

  static SessionKey derive(int id, byte[] material) {
    return new SessionKey(
        id,
        hmac(material, "keywarden aws session token v1"),
        hmac(material, "keywarden aws secret access key v1"));
  }

  static byte[] hmac(byte[] key, String data) {
    return hmac(key, data.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] hmac(byte[] key, byte[] data) {
    try {
      // One Mac per thread: Mac.getInstance's provider lookup cost more than the HMAC itself.
      Mac mac = MACS.get();
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
  }

  private static final ThreadLocal<Mac> MACS =
      ThreadLocal.withInitial(
          () -> {
            try {
              return Mac.getInstance("HmacSHA256");
            } catch (GeneralSecurityException e) {
              throw new IllegalStateException("HmacSHA256 is unavailable", e);
            }
          });

  @Override
  public String toString() {
    return "SessionKey[key." + id + ", redacted]";
  }
}
