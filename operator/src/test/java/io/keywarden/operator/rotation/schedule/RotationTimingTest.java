package io.keywarden.operator.rotation.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RotationTimingTest {

  static final Instant NOW = Instant.parse("2026-11-29T03:00:00Z");
  static final Instant CREATED = Instant.parse("2026-11-01T00:00:00Z");
  static final String UID = "3f1c7a52-8a0e-4e8b-9d0c-6f2b1f7e9a10";

  static final Schedule DAILY_AT_4 = ScheduleParser.parse("cron(0 4 ? * * *)", null, NOW);
  static final Window TWO_HOURS = Window.parse("2h", DAILY_AT_4);

  @Test
  void thousandSecretsSpreadAcrossTheWindow() {
    List<Duration> jitters =
        IntStream.range(0, 1000)
            .mapToObj(
                i ->
                    UUID.nameUUIDFromBytes(("secret-" + i).getBytes(StandardCharsets.UTF_8))
                        .toString())
            .map(uid -> new RotationTiming(DAILY_AT_4, TWO_HOURS, CREATED, null, uid).jitter())
            .toList();

    assertThat(jitters)
        .allSatisfy(
            j -> assertThat(j).isBetween(Duration.ZERO, Duration.ofHours(2).minusMillis(1)));
    assertThat(jitters.stream().min(Duration::compareTo).orElseThrow())
        .isLessThan(Duration.ofMinutes(2));
    assertThat(jitters.stream().max(Duration::compareTo).orElseThrow())
        .isGreaterThan(Duration.ofMinutes(118));
    // Each quarter of the window gets roughly a quarter of the secrets.
    long[] quarters = new long[4];
    jitters.forEach(j -> quarters[(int) (j.toMillis() / Duration.ofMinutes(30).toMillis())]++);
    assertThat(Arrays.stream(quarters).boxed().toList())
        .allSatisfy(count -> assertThat(count).isBetween(200L, 300L));
  }

  @Test
  void jitterIsStableForASeedAndDiffersBetweenSeeds() {
    RotationTiming first = new RotationTiming(DAILY_AT_4, TWO_HOURS, CREATED, null, UID);
    // A new operator process computes the same value from the same inputs.
    RotationTiming again = new RotationTiming(DAILY_AT_4, TWO_HOURS, CREATED, NOW, UID);
    RotationTiming other =
        new RotationTiming(DAILY_AT_4, TWO_HOURS, CREATED, null, UID.replace('3', '4'));

    assertThat(again.jitter()).isEqualTo(first.jitter());
    assertThat(other.jitter()).isNotEqualTo(first.jitter());
  }

  @Test
  void noWindowMeansNoJitter() {
    RotationTiming timing = new RotationTiming(DAILY_AT_4, Window.NONE, CREATED, NOW, UID);

    assertThat(timing.jitter()).isZero();
    assertThat(timing.rotateAt()).contains(Instant.parse("2026-11-29T04:00:00Z"));
  }

  @Test
  void rotatesInsideTheWindowOfTheNextSlot() {
    Duration jitter = new RotationTiming(DAILY_AT_4, TWO_HOURS, CREATED, null, UID).jitter();
    Instant previousRotation = Instant.parse("2026-11-28T04:00:00Z").plus(jitter);
    RotationTiming timing =
        new RotationTiming(DAILY_AT_4, TWO_HOURS, CREATED, previousRotation, UID);
    Instant slot = Instant.parse("2026-11-29T04:00:00Z");

    assertThat(timing.scheduledAt()).contains(slot);
    assertThat(timing.rotateAt()).contains(slot.plus(timing.jitter()));
    assertThat(timing.rotateAt().orElseThrow()).isBetween(slot, slot.plus(Duration.ofHours(2)));
  }

  @Test
  void scheduledRotationsDoNotDrift() {
    for (Schedule schedule : List.of(DAILY_AT_4, ScheduleParser.parse("rate(1 day)", null, NOW))) {
      List<Instant> slots = new ArrayList<>();
      Instant last = null;
      for (int i = 0; i < 5; i++) {
        RotationTiming timing = new RotationTiming(schedule, TWO_HOURS, CREATED, last, UID);
        slots.add(timing.scheduledAt().orElseThrow());
        last = timing.rotateAt().orElseThrow();
      }
      for (int i = 1; i < slots.size(); i++) {
        assertThat(Duration.between(slots.get(i - 1), slots.get(i)))
            .as("%s", schedule)
            .isEqualTo(Duration.ofDays(1));
      }
    }
  }

  @Test
  void rateGridIsAnchoredOnCreationNotOnTheLastRotation() {
    Schedule every12h = ScheduleParser.parse("rate(12 hours)", null, NOW);
    Window none = Window.NONE;

    RotationTiming neverRotated = new RotationTiming(every12h, none, CREATED, null, UID);
    RotationTiming rotatedOffGrid =
        new RotationTiming(every12h, none, CREATED, Instant.parse("2026-11-29T03:00:00Z"), UID);

    assertThat(neverRotated.rotateAt()).contains(Instant.parse("2026-11-01T12:00:00Z"));
    assertThat(rotatedOffGrid.rotateAt()).contains(Instant.parse("2026-11-29T12:00:00Z"));
  }

  @Test
  void dueOnceTheRotationInstantIsReached() {
    RotationTiming timing =
        new RotationTiming(
            DAILY_AT_4, TWO_HOURS, CREATED, Instant.parse("2026-11-28T05:00:00Z"), UID);
    Instant rotateAt = timing.rotateAt().orElseThrow();

    assertThat(timing.isDue(rotateAt.minusMillis(1))).isFalse();
    assertThat(timing.isDue(rotateAt)).isTrue();
    assertThat(timing.isDue(rotateAt.plus(Duration.ofMinutes(5)))).isTrue();
  }

  @Test
  void missedSlotsMakeTheSecretDueOnceAndAreNotReplayed() {
    Instant lastBeforeOutage = Instant.parse("2026-11-20T05:00:00Z");
    Instant backUp = Instant.parse("2026-11-29T12:00:00Z");

    RotationTiming afterOutage =
        new RotationTiming(DAILY_AT_4, TWO_HOURS, CREATED, lastBeforeOutage, UID);
    assertThat(afterOutage.isDue(backUp)).isTrue();

    RotationTiming afterCatchUp = new RotationTiming(DAILY_AT_4, TWO_HOURS, CREATED, backUp, UID);
    assertThat(afterCatchUp.isDue(backUp)).isFalse();
    assertThat(afterCatchUp.scheduledAt()).contains(Instant.parse("2026-11-30T04:00:00Z"));
  }

  @Test
  void anEndedScheduleIsNeverDue() {
    Schedule mondays2026 = ScheduleParser.parse("cron(0 4 ? * MON 2026)", null, NOW);
    RotationTiming timing =
        new RotationTiming(
            mondays2026, Window.NONE, CREATED, Instant.parse("2026-12-28T04:00:00Z"), UID);

    assertThat(timing.rotateAt()).isEmpty();
    assertThat(timing.isDue(Instant.parse("2030-01-01T00:00:00Z"))).isFalse();
  }
}
