package io.keywarden.operator.kms.pkcs11;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.failure.KmsException;
import io.keywarden.operator.kms.DataKey;
import io.keywarden.operator.kms.GcmWrappedKey;
import io.keywarden.operator.kms.KmsProvider;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.ProviderException;
import java.security.SecureRandom;
import java.util.NavigableSet;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Master keys in a PKCS#11 token (an HSM; tested on SoftHSM2) through the JDK's SunPKCS11. Data
 * keys are wrapped by AES-256-GCM performed inside the token (C_Encrypt with CKM_AES_GCM) under the
 * key object labelled {@code <key-id>.v<N>}, with a fresh 96-bit nonce and the encryption context,
 * key id and version as additional authenticated data, exactly as the local provider does in
 * software: the master key never leaves the token. Why GCM and not CKM_AES_KEY_WRAP_PAD, and the
 * rest of the design: docs/kms.md#pkcs11.
 *
 * <p>The token is connected on first use, not at start-up, so an operator without pkcs11 keys never
 * loads the module; a failure of the token drops the connection and the next call connects anew. At
 * most keywarden.kms.pkcs11.max-concurrent-operations calls use the token at once.
 */
@ApplicationScoped
public class Pkcs11KmsProvider implements KmsProvider {

  public static final String TYPE = "pkcs11";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final TokenConnector connector;
  private final KeywardenConfig.Pkcs11 config;
  private final Semaphore permits;
  private volatile Pkcs11Token token;

  public Pkcs11KmsProvider(TokenConnector connector, KeywardenConfig config) {
    this.connector = connector;
    this.config = config.kms().pkcs11();
    this.permits = new Semaphore(Math.max(1, this.config.maxConcurrentOperations()), true);
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public DataKey wrapDataKey(String keyId, byte[] plaintextDek, EncryptionContext context) {
    return withToken(
        t -> {
          KeyLabel primary = primary(t, keyId);
          byte[] nonce = new byte[AesGcm.NONCE_BYTES];
          RANDOM.nextBytes(nonce);
          byte[] ciphertext =
              t.encrypt(
                  primary,
                  nonce,
                  plaintextDek,
                  GcmWrappedKey.aad(context, primary.keyId(), primary.version()));
          return new DataKey(
              plaintextDek.clone(),
              new GcmWrappedKey(nonce, ciphertext).encode(),
              primary.version());
        });
  }

  @Override
  public byte[] decryptDataKey(
      String keyId, int keyVersion, byte[] wrappedDek, EncryptionContext context) {
    KeyLabel label = new KeyLabel(KeyLabel.validKeyId(keyId), keyVersion);
    GcmWrappedKey wrapped = GcmWrappedKey.decode(wrappedDek);
    return withToken(
        t ->
            t.decrypt(
                label,
                wrapped.nonce(),
                wrapped.ciphertext(),
                GcmWrappedKey.aad(context, keyId, keyVersion)));
  }

  @Override
  public int primaryKeyVersion(String keyId) {
    return withToken(t -> primary(t, keyId).version());
  }

  @Override
  public int rotateKey(String keyId) {
    return withToken(t -> t.addVersion(KeyLabel.validKeyId(keyId)));
  }

  @Override
  public void retireUnusedVersions(String keyId, Set<Integer> inUse) {
    withToken(t -> t.retire(KeyLabel.validKeyId(keyId), inUse));
  }

  @Override
  public void checkHealth() {
    withToken(
        t -> {
          t.ping();
          return null;
        });
  }

  /**
   * The highest version the token holds; version 1 is generated if there is none and that is
   * allowed.
   */
  private KeyLabel primary(Pkcs11Token t, String keyId) {
    KeyLabel.validKeyId(keyId);
    NavigableSet<Integer> versions = t.versions(keyId);
    if (versions.isEmpty()) {
      t.reload();
      versions = t.versions(keyId);
    }
    if (!versions.isEmpty()) {
      return new KeyLabel(keyId, versions.last());
    }
    if (!config.createMissingKeys()) {
      throw new KmsException(
          ManagedSecretConditions.KMS_KEY_NOT_FOUND,
          t.name()
              + " has no secret key labelled '"
              + keyId
              + ".v<N>' and "
              + "keywarden.kms.pkcs11.create-missing-keys is false; create "
              + keyId
              + ".v1 (docs/kms.md#pkcs11)");
    }
    return new KeyLabel(keyId, t.addFirstVersion(keyId));
  }

  private <T> T withToken(Function<Pkcs11Token, T> operation) {
    try {
      if (!permits.tryAcquire(config.operationTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        throw new KmsException(
            ManagedSecretConditions.KMS_BUSY,
            "all "
                + config.maxConcurrentOperations()
                + " PKCS#11 operations "
                + "(keywarden.kms.pkcs11.max-concurrent-operations) stayed busy for "
                + config.operationTimeout());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KmsException(
          ManagedSecretConditions.KMS_BUSY, "interrupted while waiting for the PKCS#11 token", e);
    }
    try {
      Pkcs11Token current = connected();
      try {
        return operation.apply(current);
      } catch (KmsException e) {
        if (ManagedSecretConditions.KMS_UNAVAILABLE.equals(e.reason())) {
          disconnect(current);
        }
        throw e;
      } catch (ProviderException e) {
        // SunPKCS11 reports a removed token or exhausted sessions this way.
        disconnect(current);
        throw current.unavailable("token failure", e);
      }
    } finally {
      permits.release();
    }
  }

  private Pkcs11Token connected() {
    Pkcs11Token current = token;
    if (current != null) {
      return current;
    }
    synchronized (this) {
      if (token == null) {
        token = connector.connect();
      }
      return token;
    }
  }

  private synchronized void disconnect(Pkcs11Token broken) {
    if (token == broken) {
      token = null;
    }
  }
}
