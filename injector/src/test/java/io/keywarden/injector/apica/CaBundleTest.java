package io.keywarden.injector.apica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.tls.CertificateIssuer;
import io.keywarden.tls.Pem;
import io.keywarden.tls.RenewalSettings;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CaBundleTest {

  private static final String CA_1 =
      Pem.certificate(
          new CertificateIssuer("test", RenewalSettings.DEFAULTS)
              .newCa(Instant.now())
              .certificate());
  private static final String CA_2 =
      Pem.certificate(
          new CertificateIssuer("test", RenewalSettings.DEFAULTS)
              .newCa(Instant.now())
              .certificate());

  @Test
  void oneCertificateIsKeptAsPemWithOneTrailingNewline() {
    CaBundle bundle =
        CaBundle.parse("\n" + CA_1 + "\n\n", "ConfigMap ns/keywarden-api-ca key ca.crt");
    assertThat(bundle.certificates()).hasSize(1);
    assertThat(bundle.pem())
        .startsWith("-----BEGIN CERTIFICATE-----")
        .endsWith("-----END CERTIFICATE-----\n");
  }

  @Test
  void aBundleKeepsEveryCertificateForACaChange() {
    assertThat(CaBundle.parse(CA_1 + CA_2, "file").certificates()).hasSize(2);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "empty      | ''    | origin is empty",
        "blank      | '  '  | origin is empty",
        "not PEM    | hello | origin is not a PEM certificate bundle",
        "broken PEM | '-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----' | origin is not a PEM certificate bundle"
      })
  void unusableInputNamesItsOrigin(String name, String pem, String message) {
    assertThatThrownBy(() -> CaBundle.parse(pem.replace("\\n", "\n"), "origin"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }
}
