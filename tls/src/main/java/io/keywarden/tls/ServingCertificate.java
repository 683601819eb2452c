package io.keywarden.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What a server presents: the chain (serving certificate first) and its key, and the moment its
 * source wants to be asked again at the latest (a self-issued certificate's renewal point; none for
 * mounted files, which are polled).
 */
public record ServingCertificate(
    X509Certificate[] chain, PrivateKey key, Optional<Instant> checkBy) {

  public ServingCertificate {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(checkBy, "checkBy");
    if (chain.length == 0) {
      throw new IllegalArgumentException("empty certificate chain");
    }
    chain = chain.clone();
  }

  public X509Certificate leaf() {
    return chain[0];
  }

  @Override
  public X509Certificate[] chain() {
    return chain.clone();
  }

  @Override
  public String toString() {
    return "ServingCertificate["
        + leaf().getSubjectX500Principal()
        + ", serial="
        + leaf().getSerialNumber().toString(16)
        + ", notAfter="
        + leaf().getNotAfter().toInstant()
        + ", key=<redacted>]";
  }
}
