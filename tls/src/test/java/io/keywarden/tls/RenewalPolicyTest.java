package io.keywarden.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.keywarden.tls.RenewalPolicy.Action;
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
  private static final CertificateIssuer ISSUER =
      new CertificateIssuer("keywarden-injector", RenewalSettings.DEFAULTS);
  private static final IssuedCertificate CA = ISSUER.newCa(ISSUED);
  private static final TlsMaterial FRESH =
      new TlsMaterial(CA, ISSUER.issueServing(CA, NAMES, ISSUED));
  private static final RenewalPolicy POLICY = new RenewalPolicy(ISSUER, NAMES);

  /** Defaults: a 5-year CA, 1-year serving certificates renewed 30 days ahead, 90 days' overlap. */
  private static final Instant ROTATE_CA_AT = ISSUED.plus(Duration.ofDays(5 * 365 - 365 - 30));

  private static final Instant PREPARE_CA_AT = ROTATE_CA_AT.minus(Duration.ofDays(90));

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
                    Optional.empty(),
                    Optional.empty())),
            ISSUED,
            Action.RENEW_SERVING),
        arguments(
            "serving certificate from another CA",
            Optional.of(new TlsMaterial(CA, ISSUER.issueServing(otherCa, NAMES, ISSUED))),
            ISSUED,
            Action.RENEW_SERVING),
        arguments(
            "a second before the CA's overlap",
            Optional.of(FRESH),
            PREPARE_CA_AT.minusSeconds(1),
            Action.RENEW_SERVING),
        arguments("CA's overlap begins", Optional.of(FRESH), PREPARE_CA_AT, Action.PREPARE_CA),
        arguments(
            "successor staged, serving certificate fresh",
            Optional.of(
                new TlsMaterial(
                    CA,
                    ISSUER.issueServing(CA, NAMES, PREPARE_CA_AT),
                    Optional.empty(),
                    Optional.of(otherCa))),
            PREPARE_CA_AT.plusSeconds(1),
            Action.KEEP),
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
  void aCaSuccessorIsPublishedForTheOverlapBeforeItSigns() {
    TlsMaterial prepared = POLICY.renew(Optional.of(FRESH), PREPARE_CA_AT);
    assertThat(prepared.ca()).isEqualTo(CA);
    IssuedCertificate next = prepared.nextCa().orElseThrow();
    assertThat(prepared.serving().certificate())
        .as("still signed by the current CA")
        .isNotEqualTo(FRESH.serving().certificate());
    assertThat(prepared.caBundlePem(PREPARE_CA_AT))
        .contains(Pem.certificate(CA.certificate()), Pem.certificate(next.certificate()));
    assertThat(POLICY.nextDecisionAt(prepared)).isEqualTo(ROTATE_CA_AT);

    TlsMaterial rotated = POLICY.renew(Optional.of(prepared), ROTATE_CA_AT);
    assertThat(rotated.ca()).as("the successor clients already trust").isEqualTo(next);
    assertThat(rotated.nextCa()).isEmpty();
    assertThat(rotated.previousCa()).contains(CA.certificate());
    assertThat(rotated.serving().certificate().getIssuerX500Principal())
        .isEqualTo(next.certificate().getSubjectX500Principal());
    assertThat(rotated.caBundlePem(ROTATE_CA_AT))
        .contains(Pem.certificate(CA.certificate()), Pem.certificate(next.certificate()));
    assertThat(POLICY.decide(Optional.of(rotated), ROTATE_CA_AT)).isEqualTo(Action.KEEP);
  }

  @Test
  void nextDecisionIsTheServingCertificatesRenewalPoint() {
    assertThat(POLICY.nextDecisionAt(FRESH))
        .isEqualTo(FRESH.serving().notAfter().minus(Duration.ofDays(30)));
    assertThat(POLICY.decide(Optional.of(FRESH), POLICY.nextDecisionAt(FRESH)))
        .isEqualTo(Action.RENEW_SERVING);
    assertThat(POLICY.decide(Optional.of(FRESH), POLICY.nextDecisionAt(FRESH).minusMillis(1)))
        .isEqualTo(Action.KEEP);
  }

  @Test
  void rotatingTheCaWithoutAStagedSuccessorMakesOneAndKeepsTheOldInTheBundle() {
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
