package io.keywarden.injector.apica;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;

/**
 * A checked PEM bundle of CA certificates, as the agent reads it (KEYWARDEN_API_CA may hold
 * several, so an old and a new CA can be trusted side by side while the API's CA changes).
 */
public record CaBundle(String pem, List<X509Certificate> certificates) {

  /**
   * Parses {@code pem}; throws {@link IllegalArgumentException} naming {@code origin} when it holds
   * no certificate.
   */
  public static CaBundle parse(String pem, String origin) {
    if (pem == null || pem.isBlank()) {
      throw new IllegalArgumentException(origin + " is empty");
    }
    Collection<? extends java.security.cert.Certificate> parsed;
    try {
      parsed =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    } catch (CertificateException e) {
      throw new IllegalArgumentException(
          origin + " is not a PEM certificate bundle: " + e.getMessage());
    }
    List<X509Certificate> certificates =
        parsed.stream()
            .filter(X509Certificate.class::isInstance)
            .map(X509Certificate.class::cast)
            .toList();
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException(origin + " holds no X.509 certificate");
    }
    return new CaBundle(pem.strip() + "\n", certificates);
  }

  /** Subjects and expiry, for log lines. */
  public String describe() {
    return certificates.stream()
        .map(
            c ->
                c.getSubjectX500Principal().getName()
                    + " (until "
                    + c.getNotAfter().toInstant()
                    + ")")
        .toList()
        .toString();
  }
}
