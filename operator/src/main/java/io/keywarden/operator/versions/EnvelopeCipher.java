package io.keywarden.operator.versions;

import com.github.benmanes.caffeine.cache.Cache;
import io.keywarden.operator.config.Caches;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.crypto.Sha256;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.kms.DataKey;
import io.keywarden.operator.kms.KmsKey;
import io.keywarden.operator.kms.KmsKeys;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Envelope encryption: one fresh data key per version, AES-256-GCM over the value with the
 * encryption context as AAD, the data key wrapped by the KMS key. Unwrapped data keys are cached
 * briefly, keyed by a digest of the wrapped key and its context, so a cache hit proves nothing the
 * KMS did not already prove.
 */
@ApplicationScoped
public class EnvelopeCipher {

  private final KmsKeys kmsKeys;
  private final Cache<ByteBuffer, byte[]> dekCache;

  public EnvelopeCipher(KmsKeys kmsKeys, KeywardenConfig config) {
    this.kmsKeys = kmsKeys;
    this.dekCache =
        Caches.onCallingThread()
            .expireAfterWrite(config.kms().dekCacheTtl())
            .maximumSize(config.kms().dekCacheTtl().isZero() ? 0 : config.kms().dekCacheSize())
            .recordStats()
            .build();
  }

  public Envelope seal(KmsKey key, EncryptionContext context, SecretValue value) {
    DataKey dek = key.provider().generateDataKey(key.providerKeyId(), context);
    try {
      byte[] plaintext = formed(value);
      try {
        AesGcm.Sealed sealed = AesGcm.encrypt(dek.plaintext(), plaintext, context.toAad());
        return new Envelope(
            Envelope.FORMAT_V2,
            key.alias(),
            dek.keyVersion(),
            dek.wrapped(),
            sealed.nonce(),
            sealed.ciphertext());
      } finally {
        Arrays.fill(plaintext, (byte) 0);
      }
    } finally {
      dek.wipe();
    }
  }

  public SecretValue unseal(Envelope envelope, EncryptionContext context) {
    KmsKey key = kmsKeys.resolve(envelope.kmsKeyId());
    byte[] aad = context.toAad();
    byte[] dek =
        dekCache.get(
            cacheKey(envelope, aad),
            k ->
                key.provider()
                    .decryptDataKey(
                        key.providerKeyId(),
                        envelope.keyVersion(),
                        envelope.wrappedDek(),
                        context));
    return decrypt(dek, envelope, aad);
  }

  /**
   * Like {@link #unseal}, but only with a data key already cached; null when the KMS would have to
   * unwrap it. Never blocks (for the event loop).
   */
  public SecretValue unsealIfCached(Envelope envelope, EncryptionContext context) {
    byte[] aad = context.toAad();
    byte[] dek = dekCache.getIfPresent(cacheKey(envelope, aad));
    return dek == null ? null : decrypt(dek, envelope, aad);
  }

  private static SecretValue decrypt(byte[] dek, Envelope envelope, byte[] aad) {
    byte[] plaintext = AesGcm.decrypt(dek, envelope.nonce(), envelope.ciphertext(), aad);
    try {
      return unformed(envelope.format(), plaintext);
    } finally {
      Arrays.fill(plaintext, (byte) 0);
    }
  }

  /** The plaintext of a {@link Envelope#FORMAT_V2} envelope: the value's form, then its bytes. */
  private static byte[] formed(SecretValue value) {
    byte[] bytes = value.bytes();
    byte[] plaintext = new byte[bytes.length + 1];
    plaintext[0] = value.isBinary() ? Envelope.FORM_BINARY : Envelope.FORM_TEXT;
    System.arraycopy(bytes, 0, plaintext, 1, bytes.length);
    Arrays.fill(bytes, (byte) 0);
    return plaintext;
  }

  private static SecretValue unformed(int format, byte[] plaintext) {
    if (format == Envelope.FORMAT_V1) {
      return SecretValue.of(plaintext); // stored before forms were kept: text when UTF-8
    }
    if (plaintext.length == 0
        || (plaintext[0] != Envelope.FORM_TEXT && plaintext[0] != Envelope.FORM_BINARY)) {
      throw new CorruptEnvelopeException("unknown value form in a version 2 envelope");
    }
    byte[] bytes = Arrays.copyOfRange(plaintext, 1, plaintext.length);
    try {
      return plaintext[0] == Envelope.FORM_BINARY
          ? SecretValue.binary(bytes)
          : SecretValue.text(bytes);
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /**
   * Proves that an envelope decrypts under this context without keeping anything: a data key
   * already cached is used, otherwise the KMS unwraps one that is wiped, not cached, afterwards (so
   * a check never makes a value servable during a KMS outage that was not read before it).
   */
  public void verify(Envelope envelope, EncryptionContext context) {
    byte[] aad = context.toAad();
    byte[] cached = dekCache.getIfPresent(cacheKey(envelope, aad));
    byte[] dek = cached;
    if (dek == null) {
      KmsKey key = kmsKeys.resolve(envelope.kmsKeyId());
      dek =
          key.provider()
              .decryptDataKey(
                  key.providerKeyId(), envelope.keyVersion(), envelope.wrappedDek(), context);
    }
    try {
      byte[] plaintext = AesGcm.decrypt(dek, envelope.nonce(), envelope.ciphertext(), aad);
      Arrays.fill(plaintext, (byte) 0);
    } finally {
      if (cached == null) {
        Arrays.fill(dek, (byte) 0);
      }
    }
  }

  /**
   * Wraps the envelope's data key again under {@code target}'s primary version; the value's
   * ciphertext is untouched. Used by key rotation and by migration between KMS keys.
   */
  public Envelope rewrap(Envelope envelope, EncryptionContext context, KmsKey target) {
    KmsKey source = kmsKeys.resolve(envelope.kmsKeyId());
    byte[] dek =
        source
            .provider()
            .decryptDataKey(
                source.providerKeyId(), envelope.keyVersion(), envelope.wrappedDek(), context);
    try {
      DataKey rewrapped = target.provider().wrapDataKey(target.providerKeyId(), dek, context);
      rewrapped.wipe();
      return envelope.withWrappedDek(rewrapped.keyVersion(), target.alias(), rewrapped.wrapped());
    } finally {
      Arrays.fill(dek, (byte) 0);
    }
  }

  public com.github.benmanes.caffeine.cache.stats.CacheStats dekCacheStats() {
    return dekCache.stats();
  }

  /** The data key cache's key: a digest of the wrapped key and what it is bound to (the AAD). */
  private static ByteBuffer cacheKey(Envelope envelope, byte[] aad) {
    return ByteBuffer.wrap(
        Sha256.of(
            envelope.kmsKeyId().getBytes(java.nio.charset.StandardCharsets.UTF_8),
            ByteBuffer.allocate(4).putInt(envelope.keyVersion()).array(),
            envelope.wrappedDek(),
            aad));
  }
}
