package io.keywarden.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RotatingKeyManagerTest {

  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private final CertificateIssuer issuer =
      new CertificateIssuer("keywarden-injector", RenewalSettings.DEFAULTS);
  private final IssuedCertificate ca = issuer.newCa(NOW);
  private final SubjectAlternativeNames names =
      SubjectAlternativeNames.of("keywarden-injector", "kw", List.of());
  private final RotatingKeyManager keyManager = new RotatingKeyManager();

  private void use(IssuedCertificate serving) {
    keyManager.use(new X509Certificate[] {serving.certificate(), ca.certificate()}, serving.key());
  }

  @Test
  void servesTheCurrentCertificateWithItsCa() {
    IssuedCertificate serving = issuer.issueServing(ca, names, NOW);
    use(serving);
    String alias = keyManager.chooseEngineServerAlias("EC", null, null);
    assertThat(keyManager.getCertificateChain(alias))
        .containsExactly(serving.certificate(), ca.certificate());
    assertThat(keyManager.getPrivateKey(alias)).isEqualTo(serving.key());
    assertThat(keyManager.current()).contains(serving.certificate());
  }

  @Test
  void aHandshakeThatChoseBeforeASwapStillGetsAMatchingPair() {
    IssuedCertificate first = issuer.issueServing(ca, names, NOW);
    use(first);
    String chosen = keyManager.chooseEngineServerAlias("EC", null, null);
    IssuedCertificate second = issuer.issueServing(ca, names, NOW);
    use(second);

    assertThat(keyManager.getCertificateChain(chosen)[0]).isEqualTo(first.certificate());
    assertThat(keyManager.getPrivateKey(chosen)).isEqualTo(first.key());
    String next = keyManager.chooseEngineServerAlias("EC", null, null);
    assertThat(next).isNotEqualTo(chosen);
    assertThat(keyManager.getCertificateChain(next)[0]).isEqualTo(second.certificate());

    use(issuer.issueServing(ca, names, NOW));
    assertThat(keyManager.getPrivateKey(chosen))
        .as("only the previous certificate is kept")
        .isNull();
  }

  @Test
  void offersNothingForOtherKeyTypesOrBeforeTheFirstCertificate() {
    assertThat(keyManager.chooseEngineServerAlias("EC", null, null)).isNull();
    use(issuer.issueServing(ca, names, NOW));
    assertThat(keyManager.chooseEngineServerAlias("RSA", null, null)).isNull();
    assertThat(keyManager.chooseClientAlias(new String[] {"EC"}, null, null)).isNull();
  }
}
