package io.keywarden.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.security.KeyStore;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;

class CertificateIssuerTest {

  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private static final SubjectAlternativeNames NAMES =
      SubjectAlternativeNames.of(
          "keywarden-injector", "keywarden-system", List.of("127.0.0.1", "injector.example"));

  private final CertificateIssuer issuer =
      new CertificateIssuer("keywarden-injector", RenewalSettings.DEFAULTS);
  private final IssuedCertificate ca = issuer.newCa(NOW);
  private final IssuedCertificate serving = issuer.issueServing(ca, NAMES, NOW);

  @Test
  void servingCertificateChainsToTheCa() throws Exception {
    CertPath path =
        CertificateFactory.getInstance("X.509").generateCertPath(List.of(serving.certificate()));
    PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca.certificate(), null)));
    parameters.setRevocationEnabled(false);
    parameters.setDate(Date.from(NOW));
    CertPathValidator.getInstance("PKIX").validate(path, parameters);
  }

  @Test
  void aTlsClientTrustingTheCaAcceptsTheServingCertificateForServerAuth() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.certificate());
    TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
    factory.init(trust);
    X509TrustManager manager = (X509TrustManager) factory.getTrustManagers()[0];
    // Throws when the chain, the key usage or the serverAuth extended key usage is wrong.
    manager.checkServerTrusted(new X509Certificate[] {serving.certificate()}, "ECDHE_ECDSA");
  }

  @Test
  void servingCertificateHasTheServiceNamesAndExtras() throws Exception {
    assertThat(serving.certificate().getSubjectAlternativeNames())
        .extracting(san -> san.get(0) + "=" + san.get(1))
        .containsExactly(
            "2=keywarden-injector.keywarden-system.svc",
            "2=keywarden-injector.keywarden-system.svc.cluster.local",
            "2=injector.example",
            "7=127.0.0.1");
    assertThat(serving.certificate().getSubjectX500Principal().getName())
        .isEqualTo("CN=keywarden-injector");
    assertThat(serving.certificate().getBasicConstraints()).isEqualTo(-1);
    assertThat(serving.certificate().getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
  }

  @Test
  void validities() {
    assertThat(ca.notAfter())
        .isCloseTo(
            NOW.plus(Duration.ofDays(5 * 365)), within(1, java.time.temporal.ChronoUnit.SECONDS));
    assertThat(serving.notAfter())
        .isCloseTo(
            NOW.plus(Duration.ofDays(365)), within(1, java.time.temporal.ChronoUnit.SECONDS));
    assertThat(serving.certificate().getNotBefore().toInstant()).isBefore(NOW);
    assertThat(ca.certificate().getBasicConstraints()).isZero();
    assertThat(ca.certificate().getKeyUsage()[5]).as("keyCertSign").isTrue();
  }

  @Test
  void namespaceOfTheMaximumLengthFits() throws Exception {
    String namespace = "n".repeat(63);
    IssuedCertificate longName =
        issuer.issueServing(
            ca, SubjectAlternativeNames.of("keywarden-injector", namespace, List.of()), NOW);
    assertThat(longName.certificate().getSubjectAlternativeNames())
        .extracting(san -> String.valueOf(san.get(1)))
        .contains("keywarden-injector." + namespace + ".svc");
  }

  @Test
  void servingCertificateNeverOutlivesTheCa() {
    IssuedCertificate late =
        issuer.issueServing(ca, NAMES, NOW.plus(Duration.ofDays(5 * 365 - 10)));
    assertThat(late.notAfter()).isEqualTo(ca.notAfter());
  }

  @Test
  void keysNeverAppearInToString() {
    assertThat(serving.toString()).contains("<redacted>").doesNotContain("PRIVATE");
    assertThat(new TlsMaterial(ca, serving).toString()).doesNotContain("PRIVATE");
  }

  @Test
  void secretDataRoundTrips() {
    TlsMaterial material =
        new TlsMaterial(
            ca,
            serving,
            java.util.Optional.of(issuer.newCa(NOW).certificate()),
            java.util.Optional.of(issuer.newCa(NOW)));
    TlsMaterial read = TlsMaterial.fromSecretData(material.toSecretData()).orElseThrow();
    assertThat(read.ca().certificate()).isEqualTo(ca.certificate());
    assertThat(read.ca().key()).isEqualTo(ca.key());
    assertThat(read.serving().certificate()).isEqualTo(serving.certificate());
    assertThat(read.serving().key()).isEqualTo(serving.key());
    assertThat(read.previousCa()).isEqualTo(material.previousCa());
    assertThat(read.nextCa().orElseThrow().certificate())
        .isEqualTo(material.nextCa().orElseThrow().certificate());
    assertThat(read.nextCa().orElseThrow().key()).isEqualTo(material.nextCa().orElseThrow().key());
    assertThat(material.caBundlePem(NOW))
        .containsOnlyOnce(Pem.certificate(ca.certificate()))
        .contains(Pem.certificate(material.previousCa().orElseThrow()))
        .contains(Pem.certificate(material.nextCa().orElseThrow().certificate()));
  }
}
