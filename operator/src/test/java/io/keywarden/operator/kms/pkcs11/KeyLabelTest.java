package io.keywarden.operator.kms.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KeyLabelTest {

  @ParameterizedTest(name = "{0} -> {1} v{2}")
  @CsvSource(
      nullValues = "-",
      value = {
        "keywarden-default.v1, keywarden-default, 1",
        "hsm.v12, hsm, 12",
        "team.a:orders.v3, team.a:orders, 3",
        "keywarden-default.v0, -, -",
        "keywarden-default.v01, -, -",
        "keywarden-default, -, -",
        ".v1, -, -",
        "-signing-key.v1, -, -",
        "some cert.v1, -, -",
      })
  void parsesOnlyOurScheme(String label, String keyId, Integer version) {
    Optional<KeyLabel> parsed = KeyLabel.parse(label);
    if (keyId == null) {
      assertThat(parsed).isEmpty();
    } else {
      assertThat(parsed).contains(new KeyLabel(keyId, version));
      assertThat(parsed.get().label()).isEqualTo(label);
    }
  }
}
