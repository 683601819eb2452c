package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA files the app's AWS SDK trusts the API with: PEM, and a trust store Java loads as is. */
class SdkTrustFilesTest {

  @TempDir Path dir;

  @Test
  void writesThePemAndATrustStoreThatJavaLoadsWithoutAPassword() throws Exception {
    List<X509Certificate> ca = certificates(TestTls.get().caPem());

    SdkTrustFiles.write(dir, ca);

    assertThat(certificates(Files.readString(dir.resolve("ca.crt")))).isEqualTo(ca);
    assertThat(Files.getPosixFilePermissions(dir.resolve("ca.crt")))
        .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
    try (var listing = Files.list(dir)) {
      assertThat(listing.map(path -> path.getFileName().toString()))
          .containsExactlyInAnyOrder("ca.crt", "truststore.p12");
    }

    // What -Djavax.net.ssl.trustStore=<file> without a password makes the JDK's default SSL
    // context do: load the PKCS12 store with a null password, trust its certificates.
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(dir.resolve("truststore.p12"))) {
      store.load(in, null);
    }
    // The API's CA, and the runtime's public CAs so that other HTTPS services stay reachable.
    assertThat(store.getCertificate("keywarden-api-ca-0")).isEqualTo(ca.get(0));
    assertThat(store.size()).isGreaterThan(50);
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext client = SSLContext.getInstance("TLS");
    client.init(null, trust.getTrustManagers(), null);

    HttpsServer server =
        HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(TestTls.get().serverContext()));
    server.createContext(
        "/",
        exchange -> {
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    server.start();
    try {
      HttpsURLConnection connection =
          (HttpsURLConnection)
              new URL("https://127.0.0.1:" + server.getAddress().getPort() + "/").openConnection();
      connection.setSSLSocketFactory(client.getSocketFactory());
      assertThat(connection.getResponseCode()).isEqualTo(204);
    } finally {
      server.stop(0);
    }
  }

  private static List<X509Certificate> certificates(String pem) throws Exception {
    return CertificateFactory.getInstance("X.509")
        .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))
        .stream()
        .map(X509Certificate.class::cast)
        .toList();
  }
}
