package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.operator.access.Caller;
import io.keywarden.operator.access.aws.RequestParts;
import io.keywarden.operator.access.aws.SessionFixtures;
import io.keywarden.operator.access.aws.SessionTokens;
import io.keywarden.operator.failure.SignatureException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A SigV4 request is judged as of its arrival, its session as of now: a long-poll answered minutes
 * after it was signed is not refused as "Signature expired", but it does not outlive its
 * credentials.
 */
class RequestAuthenticatorTest {

  private static final Instant RECEIVED = Instant.parse("2026-12-01T08:00:00Z");
  // A 300 s long-poll woken at its end, from a client whose clock ran two minutes behind.
  private static final Instant SIGNED = RECEIVED.minus(Duration.ofMinutes(2));
  private static final Instant WOKEN = RECEIVED.plus(Duration.ofSeconds(299));
  private static final Caller APP =
      new Caller("system:serviceaccount:team-a:app", "uid-1", List.of(), Map.of());

  private static RequestAuthenticator at(Instant now, SessionTokens sessions) {
    return new RequestAuthenticator(
        null, sessions, Duration.ofHours(1), Clock.fixed(now, ZoneOffset.UTC));
  }

  @Test
  void aSignatureValidOnArrivalStaysValidForTheRequestsWholeWait() {
    SessionTokens sessions = SessionFixtures.sessions(Clock.fixed(WOKEN, ZoneOffset.UTC));
    RequestParts request =
        SessionFixtures.signed(
            sessions.issue(APP, RECEIVED.plus(Duration.ofHours(1))), SIGNED, "secretsmanager");

    assertThat(at(WOKEN, sessions).authenticate(request, RECEIVED)).isEqualTo(APP);
    assertThatThrownBy(() -> at(WOKEN, sessions).authenticate(request, WOKEN))
        .as("the same signature judged as of the wake-up")
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("Signature expired");
  }

  @Test
  void credentialsThatExpireDuringTheWaitAreRefusedAtTheWakeUp() {
    SessionTokens sessions = SessionFixtures.sessions(Clock.fixed(WOKEN, ZoneOffset.UTC));
    RequestParts request =
        SessionFixtures.signed(
            sessions.issue(APP, RECEIVED.plus(Duration.ofMinutes(1))), RECEIVED, "secretsmanager");

    assertThatThrownBy(() -> at(WOKEN, sessions).authenticate(request, RECEIVED))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("security token included in the request is expired");
  }
}
