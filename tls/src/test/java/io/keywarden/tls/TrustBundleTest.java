package io.keywarden.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Real JDK TLS handshakes on loopback: a server on the {@link RotatingKeyManager}, clients on a
 * {@link TrustBundle}.
 */
class TrustBundleTest {

  private final CertificateIssuer issuer =
      new CertificateIssuer("bundle", RenewalSettings.DEFAULTS);
  private final SubjectAlternativeNames names = SubjectAlternativeNames.of(List.of("localhost"));
  private final RotatingKeyManager keyManager = new RotatingKeyManager();
  private SSLServerSocket server;
  private Thread acceptor;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
      acceptor.join(5_000);
    }
  }

  @Test
  void aBundleOfOldAndNewCaTrustsBothAndTheNextHandshakeSeesTheSwap() throws Exception {
    Instant now = Instant.now();
    IssuedCertificate oldCa = issuer.newCa(now);
    IssuedCertificate newCa = issuer.newCa(now.plusSeconds(1)); // another subject
    serve(issuer.issueServing(oldCa, names, now), oldCa);
    String bundle = Pem.certificate(oldCa.certificate()) + Pem.certificate(newCa.certificate());
    SSLContext client = TrustBundle.sslContext(bundle);
    X509Certificate first = handshake(client);
    assertThat(first.getIssuerX500Principal())
        .isEqualTo(oldCa.certificate().getSubjectX500Principal());

    IssuedCertificate renewed = issuer.issueServing(newCa, names, now);
    use(renewed, newCa);
    assertThat(handshake(client)).isEqualTo(renewed.certificate());

    SSLContext oldOnly = TrustBundle.sslContext(Pem.certificate(oldCa.certificate()));
    assertThatThrownBy(() -> handshake(oldOnly)).isInstanceOf(SSLHandshakeException.class);
  }

  private void use(IssuedCertificate serving, IssuedCertificate ca) {
    keyManager.use(new X509Certificate[] {serving.certificate(), ca.certificate()}, serving.key());
  }

  private void serve(IssuedCertificate serving, IssuedCertificate ca) throws Exception {
    use(serving, ca);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(new KeyManager[] {keyManager}, null, null);
    server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0);
    acceptor =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try (SSLSocket socket = (SSLSocket) server.accept()) {
                  socket.startHandshake();
                  socket.getOutputStream().write(1); // completes the handshake on the client
                } catch (Exception e) {
                  // a refused handshake or the server closing
                }
              }
            });
    acceptor.start();
  }

  private X509Certificate handshake(SSLContext client) throws Exception {
    try (SSLSocket socket =
        (SSLSocket) client.getSocketFactory().createSocket("localhost", server.getLocalPort())) {
      var parameters = socket.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
      socket.getSession().invalidate();
      return served;
    }
  }
}
