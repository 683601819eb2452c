package io.keywarden.tls;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * What a client of a self-issued server does with the published CA bundle (keywarden-api-ca, a
 * webhook's caBundle): trust exactly those certificates, all of them, so an old and a new CA work
 * side by side during a CA change.
 */
public final class TrustBundle {

  private TrustBundle() {}

  /** A TLS context that trusts the certificates of {@code pemBundle} and nothing else. */
  public static SSLContext sslContext(String pemBundle) {
    List<X509Certificate> certificates = Pem.parseCertificates(pemBundle);
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      for (int i = 0; i < certificates.size(); i++) {
        trust.setCertificateEntry("ca-" + i, certificates.get(i));
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
      factory.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot build a TLS context for the CA bundle", e);
    }
  }
}
