package io.keywarden.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A certificate chain and key from files someone else renews: cert-manager, or any Secret mounted
 * as a volume (kubelet swaps the files atomically through its {@code ..data} symlink). Each load
 * reads both files (a few KB) and parses them again only when their contents changed; comparing
 * contents rather than modification times also catches a change within the file system's time
 * granularity. A pair that does not belong together (a key written before its certificate) is
 * refused, so the last good pair keeps serving until the next check.
 */
public final class MountedCertificate implements CertificateSource {

  private final Path certificateFile;
  private final Path keyFile;
  private byte[] certificateBytes;
  private byte[] keyBytes;
  private ServingCertificate current;

  public MountedCertificate(Path certificateFile, Path keyFile) {
    this.certificateFile = certificateFile;
    this.keyFile = keyFile;
  }

  @Override
  public synchronized ServingCertificate load() {
    byte[] certificate = read(certificateFile);
    byte[] key = read(keyFile);
    if (current != null
        && Arrays.equals(certificate, certificateBytes)
        && Arrays.equals(key, keyBytes)) {
      return current;
    }
    List<X509Certificate> chain;
    try {
      chain = Pem.parseCertificates(new String(certificate, StandardCharsets.US_ASCII));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          certificateFile + " is not a PEM certificate chain: " + e.getMessage(), e);
    }
    PrivateKey privateKey;
    try {
      privateKey = Pem.parsePrivateKey(new String(key, StandardCharsets.US_ASCII));
    } catch (RuntimeException e) {
      // No detail from the parser: the input is key material.
      throw new IllegalStateException(keyFile + " is not a PEM private key");
    }
    if (!belongTogether(privateKey, chain.get(0).getPublicKey())) {
      throw new IllegalStateException(
          "the key in " + keyFile + " does not match the certificate in " + certificateFile);
    }
    current =
        new ServingCertificate(chain.toArray(X509Certificate[]::new), privateKey, Optional.empty());
    certificateBytes = certificate;
    keyBytes = key;
    return current;
  }

  /** Signs a random challenge with the key and verifies it with the certificate's public key. */
  static boolean belongTogether(PrivateKey key, PublicKey publicKey) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          case "Ed25519", "EdDSA" -> "Ed25519";
          default -> null;
        };
    if (algorithm == null) {
      return true; // a key type we cannot check here; the TLS handshake still would
    }
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
