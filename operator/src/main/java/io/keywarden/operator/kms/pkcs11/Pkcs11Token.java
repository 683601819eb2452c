package io.keywarden.operator.kms.pkcs11;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.failure.KmsException;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.Provider;
import java.security.ProviderException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.jboss.logging.Logger;

/**
 * A logged-in token behind a configured SunPKCS11 provider. Master keys are AES-256 secret key
 * objects of the token (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE): AES-GCM runs
 * inside the token, and only data keys and their wrapped form cross the PKCS#11 boundary.
 *
 * <p>Concurrency: SunPKCS11 keeps a pool of PKCS#11 sessions per token and takes one per operation,
 * so concurrent calls are safe; the caller bounds how many run at once. The label index and the key
 * handles are cached; {@link #reload()} reads the token's objects again (another replica rotated).
 */
final class Pkcs11Token {

  private static final Logger LOG = Logger.getLogger(Pkcs11Token.class);
  private static final int TAG_BITS = 128;

  private final Provider provider;
  private final KeyStore keyStore;
  private final String name;
  private final Map<KeyLabel, SecretKey> handles = new ConcurrentHashMap<>();
  private volatile Map<String, NavigableSet<Integer>> versions = Map.of();

  Pkcs11Token(Provider provider, KeyStore keyStore, String name) {
    this.provider = provider;
    this.keyStore = keyStore;
    this.name = name;
    index();
  }

  /** "PKCS#11 token 'x' (slot N of /path/lib.so)", for messages. */
  String name() {
    return name;
  }

  Provider provider() {
    return provider;
  }

  /** The versions of a key as last read from the token; empty when it has none. */
  NavigableSet<Integer> versions(String keyId) {
    return versions.getOrDefault(keyId, Collections.emptyNavigableSet());
  }

  /** Reads the token's labels again: another replica may have added or retired versions. */
  synchronized void reload() {
    try {
      // Already logged in: load() only lists the objects again (SunPKCS11 skips a login it has).
      keyStore.load(null, null);
    } catch (IOException | GeneralSecurityException | ProviderException e) {
      throw unavailable("cannot list the key objects", e);
    }
    handles.clear();
    index();
  }

  byte[] encrypt(KeyLabel label, byte[] nonce, byte[] plaintext, byte[] aad) {
    return gcm(Cipher.ENCRYPT_MODE, label, nonce, plaintext, aad);
  }

  /**
   * Throws {@link CorruptEnvelopeException} when the tag does not verify (wrong context, key or
   * bytes).
   */
  byte[] decrypt(KeyLabel label, byte[] nonce, byte[] ciphertext, byte[] aad) {
    return gcm(Cipher.DECRYPT_MODE, label, nonce, ciphertext, aad);
  }

  private byte[] gcm(int mode, KeyLabel label, byte[] nonce, byte[] input, byte[] aad) {
    SecretKey key = key(label);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding", provider);
      cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(aad);
      return cipher.doFinal(input);
    } catch (AEADBadTagException e) {
      // SoftHSM2 answers a tag mismatch with CKR_GENERAL_ERROR, SunPKCS11 turns that into this.
      throw new CorruptEnvelopeException(
          "authentication tag mismatch under "
              + label
              + ": the wrapped data key was altered or belongs to another secret, version or key",
          e);
    } catch (GeneralSecurityException | ProviderException e) {
      throw unavailable("AES-GCM with " + label + " failed", e);
    }
  }

  /** The key object of a version; a label the token does not hold is {@code KmsKeyNotFound}. */
  SecretKey key(KeyLabel label) {
    SecretKey cached = handles.get(label);
    if (cached != null) {
      return cached;
    }
    SecretKey key = lookup(label);
    if (key == null) {
      reload();
      key = lookup(label);
    }
    if (key == null) {
      throw new KmsException(
          ManagedSecretConditions.KMS_KEY_NOT_FOUND,
          name + " has no secret key labelled '" + label + "'");
    }
    handles.put(label, key);
    return key;
  }

  private SecretKey lookup(KeyLabel label) {
    try {
      Key key = keyStore.getKey(label.label(), null);
      return key instanceof SecretKey secret ? secret : null;
    } catch (GeneralSecurityException | ProviderException e) {
      throw unavailable("cannot look up '" + label + "'", e);
    }
  }

  /**
   * Generates the next version of a key inside the token and stores it under its label. The key is
   * generated as a session object with the attributes of the provider configuration (sensitive, not
   * extractable, encrypt/decrypt only) and copied to a token object (C_CopyObject) by the KeyStore.
   */
  synchronized int addVersion(String keyId) {
    reload();
    NavigableSet<Integer> existing = versions(keyId);
    KeyLabel label = new KeyLabel(keyId, existing.isEmpty() ? 1 : existing.last() + 1);
    try {
      KeyGenerator generator = KeyGenerator.getInstance("AES", provider);
      generator.init(256);
      keyStore.setEntry(label.label(), new KeyStore.SecretKeyEntry(generator.generateKey()), null);
    } catch (GeneralSecurityException | ProviderException e) {
      throw unavailable("cannot generate the key object '" + label + "'", e);
    }
    reload();
    LOG.infof("generated AES-256 key object '%s' in %s", label, name);
    return label.version();
  }

  /** Version 1 of a key unless another thread or replica created a version first. */
  synchronized int addFirstVersion(String keyId) {
    reload();
    NavigableSet<Integer> existing = versions(keyId);
    return existing.isEmpty() ? addVersion(keyId) : existing.last();
  }

  /** Destroys the key objects of versions below the primary that are not in use; returns them. */
  synchronized List<Integer> retire(String keyId, Set<Integer> inUse) {
    reload();
    NavigableSet<Integer> existing = versions(keyId);
    if (existing.size() < 2) {
      return List.of();
    }
    List<Integer> retired = new ArrayList<>();
    for (int version : existing.headSet(existing.last(), false)) {
      if (inUse.contains(version)) {
        continue;
      }
      KeyLabel label = new KeyLabel(keyId, version);
      try {
        keyStore.deleteEntry(label.label());
      } catch (GeneralSecurityException | ProviderException e) {
        throw unavailable("cannot destroy the key object '" + label + "'", e);
      }
      handles.remove(label);
      retired.add(version);
    }
    if (!retired.isEmpty()) {
      reload();
      LOG.infof(
          "destroyed key objects of %s versions %s in %s: no stored envelope uses them",
          keyId, retired, name);
    }
    return retired;
  }

  /** A round trip to the token (C_GenerateRandom) that proves it answers. */
  void ping() {
    try {
      SecureRandom.getInstance("PKCS11", provider).nextBytes(new byte[8]);
    } catch (GeneralSecurityException | ProviderException e) {
      throw unavailable("does not answer", e);
    }
  }

  private void index() {
    Map<String, NavigableSet<Integer>> found = new HashMap<>();
    try {
      for (String alias : Collections.list(keyStore.aliases())) {
        if (keyStore.entryInstanceOf(alias, KeyStore.SecretKeyEntry.class)) {
          KeyLabel.parse(alias)
              .ifPresent(
                  l -> found.computeIfAbsent(l.keyId(), k -> new TreeSet<>()).add(l.version()));
        }
      }
    } catch (GeneralSecurityException e) {
      throw unavailable("cannot list the key objects", e);
    }
    found.replaceAll((k, v) -> Collections.unmodifiableNavigableSet(v));
    versions = Map.copyOf(found);
  }

  /**
   * A failure of the token itself: the caller drops this connection and connects anew next time.
   */
  KmsException unavailable(String what, Exception e) {
    return new KmsException(
        ManagedSecretConditions.KMS_UNAVAILABLE,
        name + ": " + what + ": " + Pkcs11Errors.describe(e),
        e);
  }
}
