package io.keywarden.injector.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RotatingKeyManagerTest {

  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private final CertificateIssuer issuer = new CertificateIssuer();
  private final IssuedCertificate ca = issuer.newCa(NOW);
  private final SubjectAlternativeNames names =
      SubjectAlternativeNames.of("keywarden-injector", "kw", List.of());
  private final RotatingKeyManager keyManager = new RotatingKeyManager();

  @Test
  void servesTheCurrentCertificateWithItsCa() {
    IssuedCertificate serving = issuer.issueServing(ca, names, NOW);
    keyManager.use(serving, ca.certificate());
    String alias = keyManager.chooseEngineServerAlias("EC", null, null);
    assertThat(keyManager.getCertificateChain(alias))
        .containsExactly(serving.certificate(), ca.certificate());
    assertThat(keyManager.getPrivateKey(alias)).isEqualTo(serving.key());
  }

  @Test
  void aHandshakeThatChoseBeforeASwapStillGetsAMatchingPair() {
    IssuedCertificate first = issuer.issueServing(ca, names, NOW);
    keyManager.use(first, ca.certificate());
    String chosen = keyManager.chooseEngineServerAlias("EC", null, null);
    IssuedCertificate second = issuer.issueServing(ca, names, NOW);
    keyManager.use(second, ca.certificate());

    assertThat(keyManager.getCertificateChain(chosen)[0]).isEqualTo(first.certificate());
    assertThat(keyManager.getPrivateKey(chosen)).isEqualTo(first.key());
    String next = keyManager.chooseEngineServerAlias("EC", null, null);
    assertThat(next).isNotEqualTo(chosen);
    assertThat(keyManager.getCertificateChain(next)[0]).isEqualTo(second.certificate());

    keyManager.use(issuer.issueServing(ca, names, NOW), ca.certificate());
    assertThat(keyManager.getPrivateKey(chosen))
        .as("only the previous certificate is kept")
        .isNull();
  }

  @Test
  void offersNothingForOtherKeyTypesOrBeforeTheFirstCertificate() {
    assertThat(keyManager.chooseEngineServerAlias("EC", null, null)).isNull();
    keyManager.use(issuer.issueServing(ca, names, NOW), ca.certificate());
    assertThat(keyManager.chooseEngineServerAlias("RSA", null, null)).isNull();
    assertThat(keyManager.chooseClientAlias(new String[] {"EC"}, null, null)).isNull();
  }
}
