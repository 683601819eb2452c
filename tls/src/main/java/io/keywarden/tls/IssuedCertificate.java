package io.keywarden.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Objects;

/** A certificate and its private key; the key never shows in {@link #toString()}. */
public record IssuedCertificate(X509Certificate certificate, PrivateKey key) {

  public IssuedCertificate {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(key, "key");
  }

  public Instant notAfter() {
    return certificate.getNotAfter().toInstant();
  }

  @Override
  public String toString() {
    return "IssuedCertificate["
        + certificate.getSubjectX500Principal()
        + ", notAfter="
        + notAfter()
        + ", key=<redacted>]";
  }
}
