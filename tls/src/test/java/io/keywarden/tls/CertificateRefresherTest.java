package io.keywarden.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CertificateRefresherTest {

  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private final CertificateIssuer issuer =
      new CertificateIssuer("refresh", RenewalSettings.DEFAULTS);
  private final IssuedCertificate ca = issuer.newCa(NOW);
  private final SubjectAlternativeNames names = SubjectAlternativeNames.of(List.of("localhost"));

  private ServingCertificate serving(Optional<Instant> checkBy) {
    IssuedCertificate certificate = issuer.issueServing(ca, names, NOW);
    return new ServingCertificate(
        new java.security.cert.X509Certificate[] {certificate.certificate(), ca.certificate()},
        certificate.key(),
        checkBy);
  }

  /** Answers the queued results in turn, then the last one again; counts the loads. */
  private static final class Queued implements CertificateSource {
    final Deque<Object> answers = new ArrayDeque<>();
    final AtomicInteger loads = new AtomicInteger();
    Object last;

    @Override
    public ServingCertificate load() {
      loads.incrementAndGet();
      if (!answers.isEmpty()) {
        last = answers.poll();
      }
      if (last instanceof RuntimeException e) {
        throw e;
      }
      return (ServingCertificate) last;
    }
  }

  @Test
  void swapsTheKeyManagerWhenTheCertificateChangesAndKeepsTheLastOnFailure() {
    Queued source = new Queued();
    ServingCertificate first = serving(Optional.empty());
    ServingCertificate second = serving(Optional.empty());
    source.answers.addAll(
        List.of(first, first, new IllegalStateException("Secret unreadable"), second));
    CertificateRefresher refresher =
        new CertificateRefresher("test", source, Duration.ofMinutes(1), Clock.systemUTC());

    assertThat(refresher.keyManager().current()).isEmpty();
    refresher.load();
    String alias = refresher.keyManager().chooseEngineServerAlias("EC", null, null);
    assertThat(refresher.keyManager().current()).contains(first.leaf());
    refresher.load();
    assertThat(refresher.keyManager().chooseEngineServerAlias("EC", null, null))
        .as("same certificate, no swap")
        .isEqualTo(alias);
    assertThatThrownBy(refresher::load).hasMessage("Secret unreadable");
    assertThat(refresher.keyManager().current()).contains(first.leaf());
    refresher.load();
    assertThat(refresher.keyManager().current()).contains(second.leaf());
    assertThat(refresher.current()).isSameAs(second);
  }

  @Test
  void checksAtTheRenewalPointWhenItComesBeforeTheInterval() {
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    CertificateRefresher refresher =
        new CertificateRefresher("test", new Queued(), Duration.ofMinutes(1), clock);

    assertThat(refresher.delayAfter(serving(Optional.empty()))).isEqualTo(Duration.ofMinutes(1));
    assertThat(refresher.delayAfter(serving(Optional.of(NOW.plusSeconds(3600)))))
        .isEqualTo(Duration.ofMinutes(1));
    assertThat(refresher.delayAfter(serving(Optional.of(NOW.plusSeconds(20)))))
        .isEqualTo(Duration.ofMillis(20_050));
    assertThat(refresher.delayAfter(serving(Optional.of(NOW.minusSeconds(5)))))
        .as("never a busy loop")
        .isEqualTo(CertificateRefresher.MINIMUM_DELAY);
  }

  @Test
  void theScheduledCheckRunsAtTheRenewalPoint() throws Exception {
    Queued source = new Queued();
    Instant due = Instant.now().plusMillis(1200);
    source.answers.addAll(List.of(serving(Optional.of(due)), serving(Optional.empty())));
    try (CertificateRefresher refresher =
        new CertificateRefresher("test", source, Duration.ofHours(1), Clock.systemUTC())) {
      ServingCertificate first = refresher.load();
      refresher.start();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (refresher.keyManager().current().equals(Optional.of(first.leaf()))
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(Instant.now()).isAfter(due);
      assertThat(refresher.keyManager().current()).isNotEqualTo(Optional.of(first.leaf()));
      assertThat(source.loads).as("one load at start, one at the renewal point").hasValue(2);
    }
  }
}
