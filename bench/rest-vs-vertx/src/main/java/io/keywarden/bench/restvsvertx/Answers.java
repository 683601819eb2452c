package io.keywarden.bench.restvsvertx;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The handler both frameworks call: what the API does for a GetSecretValue with warm caches, minus
 * the Kubernetes lookups (a bearer check, one AES-256-GCM decryption of a 32-byte value, the answer
 * record). The frameworks differ only in how the request reaches it and the answer leaves.
 */
final class Answers {

  private static final byte[] KEY = new byte[32];
  private static final byte[] NONCE = new byte[12];
  private static final byte[] SEALED;
  private static final ThreadLocal<Cipher> CIPHER =
      ThreadLocal.withInitial(
          () -> {
            try {
              return Cipher.getInstance("AES/GCM/NoPadding");
            } catch (GeneralSecurityException e) {
              throw new IllegalStateException(e);
            }
          });

  static {
    SecureRandom random = new SecureRandom();
    random.nextBytes(KEY);
    random.nextBytes(NONCE);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(
          Cipher.ENCRYPT_MODE, new SecretKeySpec(KEY, "AES"), new GCMParameterSpec(128, NONCE));
      SEALED = cipher.doFinal("0123456789abcdefghijklmnopqrstuv".getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private Answers() {}

  /** Null when there is no bearer token (the callers answer 401). */
  static ValueAnswer answer(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    try {
      Cipher cipher = CIPHER.get();
      cipher.init(
          Cipher.DECRYPT_MODE, new SecretKeySpec(KEY, "AES"), new GCMParameterSpec(128, NONCE));
      String value = new String(cipher.doFinal(SEALED), StandardCharsets.UTF_8);
      return new ValueAnswer(
          "arn:keywarden:secretsmanager:bench:secret:bench/bench-value",
          "bench-value",
          "bench",
          "9319e4d2-26a7-437b-94e3-e2a933961918",
          List.of("CURRENT"),
          value,
          "2026-11-30T08:00:00Z");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
