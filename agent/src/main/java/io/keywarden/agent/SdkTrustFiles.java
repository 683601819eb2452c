package io.keywarden.agent;

import io.keywarden.contract.AwsSdkEnv;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The API's CA for the app's AWS SDK ({@code keywarden.io/aws-sdk}): a pod cannot mount the
 * operator's CA ConfigMap from another namespace, so the agent, which gets the CA in its
 * environment, writes it into a memory volume the app containers mount read-only: {@value
 * AwsSdkEnv#CA_FILE} (PEM, for {@code AWS_CA_BUNDLE} and {@code NODE_EXTRA_CA_CERTS}) and {@value
 * AwsSdkEnv#TRUST_STORE_FILE} (PKCS12 without password, for {@code -Djavax.net.ssl.trustStore}).
 * Each file is written under a temporary name and renamed, so a reader never sees half a file.
 */
final class SdkTrustFiles {

  private SdkTrustFiles() {}

  static void write(Path dir, List<X509Certificate> certificates) throws IOException {
    replace(dir, AwsSdkEnv.CA_FILE, pem(certificates));
    replace(dir, AwsSdkEnv.TRUST_STORE_FILE, trustStore(certificates));
  }

  static byte[] pem(List<X509Certificate> certificates) throws IOException {
    StringBuilder pem = new StringBuilder();
    Base64.Encoder base64 = Base64.getMimeEncoder(64, new byte[] {'\n'});
    for (X509Certificate certificate : certificates) {
      try {
        pem.append("-----BEGIN CERTIFICATE-----\n")
            .append(base64.encodeToString(certificate.getEncoded()))
            .append("\n-----END CERTIFICATE-----\n");
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot encode a CA certificate: " + e.getMessage());
      }
    }
    return pem.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * A PKCS12 store whose certificates are neither encrypted nor MAC-protected, so the JDK's default
   * trust manager reads it without {@code javax.net.ssl.trustStorePassword}; a password would only
   * hide public certificates. It replaces the app JVM's default trust store, so it also holds the
   * public CAs of the agent's own runtime (its {@code cacerts}): the app keeps reaching public
   * HTTPS services, real AWS among them.
   */
  static byte[] trustStore(List<X509Certificate> certificates) throws IOException {
    // JDK 17 (JDK-8231107): these security properties choose how PKCS12 stores are written. The
    // agent writes no other PKCS12 store.
    Security.setProperty("keystore.pkcs12.certProtectionAlgorithm", "NONE");
    Security.setProperty("keystore.pkcs12.macAlgorithm", "NONE");
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      for (int i = 0; i < certificates.size(); i++) {
        store.setCertificateEntry("keywarden-api-ca-" + i, certificates.get(i));
      }
      X509Certificate[] publicCas = defaultTrustAnchors();
      for (int i = 0; i < publicCas.length; i++) {
        store.setCertificateEntry("jdk-" + i, publicCas[i]);
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      store.store(out, new char[0]);
      return out.toByteArray();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot make the PKCS12 trust store: " + e.getMessage());
    }
  }

  private static X509Certificate[] defaultTrustAnchors() throws GeneralSecurityException {
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init((KeyStore) null);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        return x509.getAcceptedIssuers();
      }
    }
    return new X509Certificate[0];
  }

  private static void replace(Path dir, String name, byte[] content) throws IOException {
    Path temporary = dir.resolve("." + name + ".tmp");
    Files.write(temporary, content);
    // Certificates are public; every container user must read them (0644).
    Files.setPosixFilePermissions(
        temporary, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    Files.move(
        temporary,
        dir.resolve(name),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }
}
