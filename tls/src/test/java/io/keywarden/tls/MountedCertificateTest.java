package io.keywarden.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountedCertificateTest {

  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private final CertificateIssuer issuer =
      new CertificateIssuer("mounted", RenewalSettings.DEFAULTS);
  private final IssuedCertificate ca = issuer.newCa(NOW);
  private final SubjectAlternativeNames names = SubjectAlternativeNames.of(List.of("localhost"));

  @TempDir Path dir;

  private Path cert() {
    return dir.resolve("tls.crt");
  }

  private Path key() {
    return dir.resolve("tls.key");
  }

  private void write(IssuedCertificate serving, IssuedCertificate keyOf) throws Exception {
    Files.writeString(
        cert(), Pem.certificate(serving.certificate()) + Pem.certificate(ca.certificate()));
    Files.writeString(key(), Pem.privateKey(keyOf.key()));
  }

  @Test
  void readsTheChainAndKeyAndReloadsOnlyWhenTheContentsChange() throws Exception {
    IssuedCertificate first = issuer.issueServing(ca, names, NOW);
    write(first, first);
    MountedCertificate mounted = new MountedCertificate(cert(), key());

    ServingCertificate loaded = mounted.load();
    assertThat(loaded.chain()).containsExactly(first.certificate(), ca.certificate());
    assertThat(loaded.key()).isEqualTo(first.key());
    assertThat(loaded.checkBy()).isEmpty();
    write(first, first);
    assertThat(mounted.load()).as("same contents, same value").isSameAs(loaded);

    IssuedCertificate second = issuer.issueServing(ca, names, NOW);
    write(second, second);
    assertThat(mounted.load().leaf()).isEqualTo(second.certificate());
  }

  @Test
  void aKeyOfAnotherCertificateIsRefusedAndTheLastGoodPairStays() throws Exception {
    IssuedCertificate first = issuer.issueServing(ca, names, NOW);
    write(first, first);
    MountedCertificate mounted = new MountedCertificate(cert(), key());
    mounted.load();

    IssuedCertificate second = issuer.issueServing(ca, names, NOW);
    write(second, first);
    assertThatThrownBy(mounted::load)
        .hasMessage("the key in " + key() + " does not match the certificate in " + cert());
    write(second, second);
    assertThat(mounted.load().leaf()).isEqualTo(second.certificate());
  }

  @Test
  void unreadableFilesAreNamedAndKeyMaterialIsNotEchoed() throws Exception {
    MountedCertificate mounted = new MountedCertificate(cert(), key());
    assertThatThrownBy(mounted::load).hasMessageContaining("cannot read " + cert());

    Files.writeString(cert(), "not a certificate");
    Files.writeString(key(), "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n");
    assertThatThrownBy(mounted::load).hasMessageContaining(cert() + " is not a PEM certificate");

    IssuedCertificate first = issuer.issueServing(ca, names, NOW);
    Files.writeString(cert(), Pem.certificate(first.certificate()));
    assertThatThrownBy(mounted::load).hasMessage(key() + " is not a PEM private key").hasNoCause();
  }
}
