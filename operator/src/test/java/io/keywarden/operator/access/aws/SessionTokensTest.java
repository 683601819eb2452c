package io.keywarden.operator.access.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.keywarden.operator.access.Caller;
import io.keywarden.operator.failure.Failure;
import io.keywarden.operator.failure.KeywardenException;
import io.keywarden.operator.failure.SignatureException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issued credentials, used by the AWS SDK for Java's own SigV4 signer, verify; every way of
 * misusing them is refused with the error AWS gives (UnrecognizedClient, ExpiredToken,
 * InvalidSignature).
 */
class SessionTokensTest {

  private static final Instant NOW = Instant.parse("2026-11-30T08:00:00Z");
  private static final Caller APP =
      new Caller(
          "system:serviceaccount:team-a:app",
          "0d4c8a4e-uid",
          List.of(
              "system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"),
          Map.of("authentication.kubernetes.io/pod-name", List.of("app-7d9f")));
  private static final Caller OTHER =
      new Caller("system:serviceaccount:team-b:other", "uid-2", List.of(), Map.of());

  private final SessionFixtures.Keys keys = new SessionFixtures.Keys();
  private final SessionTokens tokens =
      new SessionTokens(keys, new ObjectMapper(), Clock.fixed(NOW, ZoneOffset.UTC));
  private final SigV4Verifier verifier = new SigV4Verifier("secretsmanager");

  private Caller verify(RequestParts request, Instant now) {
    SessionTokens.Session[] session = new SessionTokens.Session[1];
    verifier.verify(
        request,
        now,
        (id, token) -> {
          session[0] = tokens.open(id, token);
          return session[0].secretAccessKey();
        });
    return session[0].caller();
  }

  private static Failure failureOf(Runnable action) {
    try {
      action.run();
    } catch (KeywardenException e) {
      return e.failure();
    }
    throw new AssertionError("expected a refusal");
  }

  @Test
  void aRequestSignedByTheJavaSdkIsTheServiceAccountThatGotTheCredentials() {
    var credentials = tokens.issue(APP, NOW.plus(Duration.ofHours(1)));

    assertThat(verify(SessionFixtures.signed(credentials, NOW, "secretsmanager"), NOW))
        .isEqualTo(APP);
    assertThat(credentials.accessKeyId()).matches("ASIA[A-Z2-7]{16}");
    assertThat(credentials.secretAccessKey()).hasSize(40);
    assertThat(credentials.toString()).doesNotContain(credentials.secretAccessKey());
  }

  @Test
  void anotherReplicaWithTheSameKeysVerifiesIt() {
    var credentials = tokens.issue(APP, NOW.plus(Duration.ofHours(1)));
    SessionTokens replica =
        new SessionTokens(keys, new ObjectMapper(), Clock.fixed(NOW, ZoneOffset.UTC));

    var session = replica.open(credentials.accessKeyId(), credentials.sessionToken());

    assertThat(session.caller()).isEqualTo(APP);
    assertThat(session.secretAccessKey()).isEqualTo(credentials.secretAccessKey());
  }

  @Test
  void tokensOfThePreviousKeyStillOpenAfterRotationAndNotAfterItsRemoval() {
    var before = tokens.issue(APP, NOW.plus(Duration.ofHours(1)));
    keys.add(2);
    var after = tokens.issue(APP, NOW.plus(Duration.ofHours(1)));

    assertThat(verify(SessionFixtures.signed(before, NOW, "secretsmanager"), NOW)).isEqualTo(APP);
    assertThat(verify(SessionFixtures.signed(after, NOW, "secretsmanager"), NOW)).isEqualTo(APP);
    assertThat(after.sessionToken().substring(0, 7))
        .isNotEqualTo(before.sessionToken().substring(0, 7));

    keys.keys.remove(1);
    SessionTokens fresh =
        new SessionTokens(keys, new ObjectMapper(), Clock.fixed(NOW, ZoneOffset.UTC));
    assertThatThrownBy(() -> fresh.open(before.accessKeyId(), before.sessionToken()))
        .isInstanceOf(SignatureException.class)
        .hasMessage(SessionTokens.INVALID_TOKEN);
  }

  @Test
  void expiredCredentialsAreExpiredTokenException() {
    var credentials = tokens.issue(APP, NOW.plus(Duration.ofMinutes(30)));
    SessionTokens later =
        new SessionTokens(
            keys,
            new ObjectMapper(),
            Clock.fixed(NOW.plus(Duration.ofMinutes(31)), ZoneOffset.UTC));
    Instant then = NOW.plus(Duration.ofMinutes(31));

    assertThatThrownBy(
            () ->
                verifier.verify(
                    SessionFixtures.signed(credentials, then, "secretsmanager"),
                    then,
                    (id, token) -> later.open(id, token).secretAccessKey()))
        .isInstanceOfSatisfying(
            SignatureException.class,
            e -> assertThat(e.failure()).isEqualTo(Failure.EXPIRED_CREDENTIALS))
        .hasMessage("The security token included in the request is expired");
  }

  @Test
  void aTamperedSessionTokenIsUnrecognized() {
    var credentials = tokens.issue(APP, NOW.plus(Duration.ofHours(1)));
    String token = credentials.sessionToken();
    int middle = token.length() / 2;
    String tampered =
        token.substring(0, middle)
            + (token.charAt(middle) == 'A' ? 'B' : 'A')
            + token.substring(middle + 1);
    var forged =
        new SessionTokens.Credentials(
            credentials.accessKeyId(),
            credentials.secretAccessKey(),
            tampered,
            credentials.expiration());

    assertThat(failureOf(() -> verify(SessionFixtures.signed(forged, NOW, "secretsmanager"), NOW)))
        .isEqualTo(Failure.UNRECOGNIZED_CREDENTIALS);
  }

  @Test
  void aSessionTokenOfAnotherServiceAccountDoesNotGoWithThisAccessKey() {
    var mine = tokens.issue(APP, NOW.plus(Duration.ofHours(1)));
    var theirs = tokens.issue(OTHER, NOW.plus(Duration.ofHours(1)));
    var mixed =
        new SessionTokens.Credentials(
            mine.accessKeyId(), mine.secretAccessKey(), theirs.sessionToken(), mine.expiration());

    assertThat(failureOf(() -> verify(SessionFixtures.signed(mixed, NOW, "secretsmanager"), NOW)))
        .isEqualTo(Failure.UNRECOGNIZED_CREDENTIALS);
  }

  @Test
  void aSecretGuessedForAnotherTokenIsAnInvalidSignature() {
    var mine = tokens.issue(APP, NOW.plus(Duration.ofHours(1)));
    var theirs = tokens.issue(OTHER, NOW.plus(Duration.ofHours(1)));
    // Their token and access key id, signed with my secret.
    var guessed =
        new SessionTokens.Credentials(
            theirs.accessKeyId(), mine.secretAccessKey(), theirs.sessionToken(), mine.expiration());

    assertThat(failureOf(() -> verify(SessionFixtures.signed(guessed, NOW, "secretsmanager"), NOW)))
        .isEqualTo(Failure.INVALID_SIGNATURE);
  }

  @Test
  void withoutTheSessionTokenTheCredentialsAreUnrecognized() {
    var credentials = tokens.issue(APP, NOW.plus(Duration.ofHours(1)));
    RequestParts request = SessionFixtures.signed(credentials, NOW, "secretsmanager");
    Map<String, List<String>> headers = new HashMap<>(request.headers());
    headers.remove("x-amz-security-token");

    assertThat(
            failureOf(
                () -> verify(new RequestParts("POST", "/", "", headers, request.body()), NOW)))
        .isEqualTo(Failure.UNRECOGNIZED_CREDENTIALS);
  }

  @Test
  void aSignedRequestReplayedSixMinutesLaterIsAnInvalidSignature() {
    var credentials = tokens.issue(APP, NOW.plus(Duration.ofHours(1)));
    RequestParts request = SessionFixtures.signed(credentials, NOW, "secretsmanager");

    assertThatThrownBy(() -> verify(request, NOW.plus(Duration.ofMinutes(6))))
        .isInstanceOf(SignatureException.class)
        .hasMessageStartingWith("Signature expired: ");
  }

  @Test
  void anotherBodyUnderTheSameSignatureIsAnInvalidSignature() {
    var credentials = tokens.issue(APP, NOW.plus(Duration.ofHours(1)));
    RequestParts request = SessionFixtures.signed(credentials, NOW, "secretsmanager");
    RequestParts swapped =
        new RequestParts(
            "POST",
            "/",
            "",
            request.headers(),
            "{\"SecretId\":\"other-secret\"}".getBytes(StandardCharsets.UTF_8));

    assertThat(failureOf(() -> verify(swapped, NOW))).isEqualTo(Failure.INVALID_SIGNATURE);
  }

  @Test
  void aSignatureForAnotherServiceIsRefused() {
    var credentials = tokens.issue(APP, NOW.plus(Duration.ofHours(1)));

    assertThatThrownBy(() -> verify(SessionFixtures.signed(credentials, NOW, "kms"), NOW))
        .hasMessage("Credential should be scoped to correct service: 'secretsmanager'.");
  }
}
