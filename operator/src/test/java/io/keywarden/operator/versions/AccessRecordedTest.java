package io.keywarden.operator.versions;

import static org.assertj.core.api.Assertions.assertThat;

import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AccessRecordedTest {

  private static ManagedSecret recorded(String day) {
    ManagedSecret secret = new ManagedSecret();
    ManagedSecretStatus status = new ManagedSecretStatus();
    status.setLastAccessedDate(day);
    secret.setStatus(status);
    return secret;
  }

  @Test
  void aDayCountsUntilItsLastInstantAndALaterDayIsNotRecordedYet() {
    ManagedSecret secret = recorded("2026-12-01T00:00:00Z");
    assertThat(VersionLedger.accessRecorded(secret, Instant.parse("2026-12-01T00:00:00Z")))
        .isTrue();
    assertThat(VersionLedger.accessRecorded(secret, Instant.parse("2026-12-01T23:59:59.999Z")))
        .isTrue();
    assertThat(VersionLedger.accessRecorded(secret, Instant.parse("2026-12-02T00:00:00Z")))
        .isFalse();
    // Back to an earlier day (another thread's clock, a test): the kept day text must follow.
    assertThat(VersionLedger.accessRecorded(secret, Instant.parse("2026-11-30T12:00:00Z")))
        .isTrue();
    assertThat(VersionLedger.accessRecorded(secret, Instant.parse("2026-12-02T08:00:00Z")))
        .isFalse();
  }

  @Test
  void nothingRecordedIsNotRecorded() {
    assertThat(VersionLedger.accessRecorded(new ManagedSecret(), Instant.now())).isFalse();
    assertThat(VersionLedger.accessRecorded(recorded(null), Instant.now())).isFalse();
  }

  @Test
  void daysBeforeTheEpochAreTheirOwnDays() {
    ManagedSecret secret = recorded("1969-12-31T00:00:00Z");
    assertThat(VersionLedger.accessRecorded(secret, Instant.parse("1969-12-31T23:00:00Z")))
        .isTrue();
    assertThat(VersionLedger.accessRecorded(secret, Instant.parse("1970-01-01T00:00:00Z")))
        .isFalse();
  }
}
