package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Which failures start the backoff over: those that end a long-poll the API had held. */
class SecretWatcherTest {

  private static final Duration LONG = Duration.ofSeconds(12);
  private static final Duration SHORT = Duration.ofMillis(40);

  private static ApiException status(int status) {
    return new ApiException(status, "answer " + status, null);
  }

  @Test
  void aHeldWaitEndedByARefusalOrAClosedConnectionStartsOver() {
    assertThat(SecretWatcher.endedAnAcceptedWait(status(401), true, LONG)).isTrue();
    assertThat(SecretWatcher.endedAnAcceptedWait(status(403), true, LONG)).isTrue();
    assertThat(
            SecretWatcher.endedAnAcceptedWait(
                new EOFException("Unexpected end of file from server"), true, LONG))
        .as("the API restarted under the wait")
        .isTrue();
    assertThat(SecretWatcher.endedAnAcceptedWait(status(401), true, SecretWatcher.HELD)).isTrue();
  }

  @Test
  void quickFailuresKeepTheBackoffGrowing() {
    assertThat(SecretWatcher.endedAnAcceptedWait(status(401), true, SHORT)).isFalse();
    assertThat(SecretWatcher.endedAnAcceptedWait(new ConnectException("refused"), true, SHORT))
        .isFalse();
    assertThat(SecretWatcher.endedAnAcceptedWait(status(401), true, Duration.ofSeconds(9)))
        .isFalse();
  }

  @Test
  void aStrugglingApiKeepsTheBackoffGrowingHoweverLongItHeld() {
    assertThat(SecretWatcher.endedAnAcceptedWait(status(503), true, LONG)).isFalse();
    assertThat(SecretWatcher.endedAnAcceptedWait(status(500), true, LONG)).isFalse();
    assertThat(SecretWatcher.endedAnAcceptedWait(status(429), true, LONG)).isFalse();
    assertThat(
            SecretWatcher.endedAnAcceptedWait(
                new SocketTimeoutException("Read timed out"), true, LONG))
        .as("held until the client's timeout")
        .isFalse();
    assertThat(
            SecretWatcher.endedAnAcceptedWait(
                new SocketTimeoutException("Connect timed out"), true, LONG))
        .isFalse();
  }

  @Test
  void aSlowFetchIsNotAWait() {
    assertThat(SecretWatcher.endedAnAcceptedWait(status(401), false, LONG)).isFalse();
    assertThat(SecretWatcher.endedAnAcceptedWait(new IOException("closed"), false, LONG)).isFalse();
  }
}
