package io.keywarden.injector.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.keywarden.injector.tls.RenewalPolicy.Action;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RenewalPolicyTest {

  private static final Instant ISSUED = Instant.parse("2026-01-01T00:00:00Z");
  private static final SubjectAlternativeNames NAMES =
      SubjectAlternativeNames.of("keywarden-injector", "kw", List.of("127.0.0.1"));
  private static final CertificateIssuer ISSUER = new CertificateIssuer();
  private static final IssuedCertificate CA = ISSUER.newCa(ISSUED);
  private static final TlsMaterial FRESH =
      new TlsMaterial(CA, ISSUER.issueServing(CA, NAMES, ISSUED), Optional.empty());
  private static final RenewalPolicy POLICY = new RenewalPolicy(ISSUER, NAMES, Duration.ofDays(30));

  static Stream<Arguments> decisions() {
    IssuedCertificate otherCa = ISSUER.newCa(ISSUED);
    return Stream.of(
        arguments("nothing stored", Optional.empty(), ISSUED, Action.NEW_CA),
        arguments(
            "fresh material", Optional.of(FRESH), ISSUED.plus(Duration.ofDays(1)), Action.KEEP),
        arguments(
            "31 days before expiry",
            Optional.of(FRESH),
            ISSUED.plus(Duration.ofDays(365 - 31)),
            Action.KEEP),
        arguments(
            "29 days before expiry",
            Optional.of(FRESH),
            ISSUED.plus(Duration.ofDays(365 - 29)),
            Action.RENEW_SERVING),
        arguments(
            "expired", Optional.of(FRESH), ISSUED.plus(Duration.ofDays(400)), Action.RENEW_SERVING),
        arguments(
            "a configured name is missing",
            Optional.of(
                new TlsMaterial(
                    CA,
                    ISSUER.issueServing(
                        CA,
                        SubjectAlternativeNames.of("keywarden-injector", "kw", List.of()),
                        ISSUED),
                    Optional.empty())),
            ISSUED,
            Action.RENEW_SERVING),
        arguments(
            "serving certificate from another CA",
            Optional.of(
                new TlsMaterial(CA, ISSUER.issueServing(otherCa, NAMES, ISSUED), Optional.empty())),
            ISSUED,
            Action.RENEW_SERVING),
        arguments(
            "CA could not sign a full year any more",
            Optional.of(FRESH),
            ISSUED.plus(Duration.ofDays(5 * 365 - 365 - 29)),
            Action.ROTATE_CA));
  }

  @ParameterizedTest(name = "{0}: {3}")
  @MethodSource("decisions")
  void decides(String name, Optional<TlsMaterial> stored, Instant now, Action expected) {
    assertThat(POLICY.decide(stored, now)).isEqualTo(expected);
  }

  @Test
  void renewingTheServingCertificateKeepsTheCa() {
    Instant now = ISSUED.plus(Duration.ofDays(340));
    TlsMaterial renewed = POLICY.renew(Optional.of(FRESH), now);
    assertThat(renewed.ca()).isEqualTo(CA);
    assertThat(renewed.serving().notAfter()).isAfter(FRESH.serving().notAfter());
    assertThat(POLICY.decide(Optional.of(renewed), now)).isEqualTo(Action.KEEP);
  }

  @Test
  void rotatingTheCaKeepsTheOldOneInTheBundle() {
    Instant now = ISSUED.plus(Duration.ofDays(5 * 365 - 365));
    TlsMaterial rotated = POLICY.renew(Optional.of(FRESH), now);
    assertThat(rotated.ca()).isNotEqualTo(CA);
    assertThat(rotated.previousCa()).contains(CA.certificate());
    assertThat(rotated.caBundlePem(now))
        .contains(Pem.certificate(CA.certificate()), Pem.certificate(rotated.ca().certificate()));
    assertThat(rotated.caBundlePem(now.plus(Duration.ofDays(400))))
        .doesNotContain(Pem.certificate(CA.certificate()));
    assertThat(POLICY.decide(Optional.of(rotated), now)).isEqualTo(Action.KEEP);
  }

  @Test
  void keepReturnsTheStoredMaterial() {
    assertThat(POLICY.renew(Optional.of(FRESH), ISSUED)).isSameAs(FRESH);
  }

  @Test
  void unreadableSecretDataCountsAsNothingStored() {
    assertThat(
            TlsMaterial.fromSecretData(
                Map.of("tls.crt", "bm9wZQ==", "tls.key", "x", "ca.crt", "x", "ca.key", "x")))
        .isEmpty();
    assertThat(TlsMaterial.fromSecretData(Map.of("tls.crt", "x"))).isEmpty();
  }
}
