package io.keywarden.operator.rotation.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ScheduleParserTest {

  /** A Sunday, 03:00 UTC. */
  static final Instant NOW = Instant.parse("2026-11-29T03:00:00Z");

  /** Where the rate grids start: 28 days and 3 hours before NOW. */
  static final Instant ANCHOR = Instant.parse("2026-11-01T00:00:00Z");

  static Stream<Arguments> validExpressions() {
    return Stream.of(
        arguments("rate(12 hours)", "2026-11-29T12:00:00Z"),
        arguments("rate(1 day)", "2026-11-30T00:00:00Z"),
        arguments("rate(4 hours)", "2026-11-29T04:00:00Z"),
        arguments("rate(7 days)", "2026-12-06T00:00:00Z"),
        // NOW lies exactly on this grid: the next run is strictly after it.
        arguments("rate(90 minutes)", "2026-11-29T04:30:00Z"),
        arguments("rate(1 minute)", "2026-11-29T03:01:00Z"),
        arguments("rate(1000 days)", "2029-07-28T00:00:00Z"),
        arguments("cron(0 4 ? * MON *)", "2026-11-30T04:00:00Z"),
        arguments("cron(0/15 * * * ? *)", "2026-11-29T03:15:00Z"),
        arguments("cron(0 10 L * ? *)", "2026-11-30T10:00:00Z"),
        arguments("cron(0 12 ? * 6#3 *)", "2026-12-18T12:00:00Z"),
        arguments("cron(0 4 ? * SUN *)", "2026-11-29T04:00:00Z"),
        arguments("cron(0 4 ? * 1 *)", "2026-11-29T04:00:00Z"),
        arguments("cron(30 2 ? * MON-FRI *)", "2026-11-30T02:30:00Z"),
        arguments("cron(0 0 1 1 ? *)", "2027-01-01T00:00:00Z"),
        arguments("cron(0 4 15W * ? *)", "2026-12-15T04:00:00Z"),
        arguments("cron(0 4 ? * 6L *)", "2026-12-25T04:00:00Z"),
        arguments("cron(0 8 ? JAN,JUL MON 2027)", "2027-01-04T08:00:00Z"),
        arguments("cron(0 */6 * * ? *)", "2026-11-29T06:00:00Z"),
        arguments("  cron( 0 4 ? * TUE * )  ", "2026-12-01T04:00:00Z"),
        arguments("0 4 * * 1", "2026-11-30T04:00:00Z"),
        arguments("0 4 * * MON", "2026-11-30T04:00:00Z"),
        arguments("*/30 * * * *", "2026-11-29T03:30:00Z"),
        arguments("0 3 * * *", "2026-11-30T03:00:00Z"),
        arguments("0 4 * * 7", "2026-11-29T04:00:00Z"),
        // crontab(5): both day fields restricted means either matches (Friday 4 Dec, before the
        // 13th).
        arguments("0 4 13 * 5", "2026-12-04T04:00:00Z"),
        arguments("0 0 29 2 *", "2028-02-29T00:00:00Z"),
        arguments("@daily", "2026-11-30T00:00:00Z"),
        arguments("@hourly", "2026-11-29T04:00:00Z"));
  }

  @ParameterizedTest(name = "{0} → {1}")
  @MethodSource("validExpressions")
  void nextRunAfterNow(String expression, String expectedNext) {
    Schedule schedule = ScheduleParser.parse(expression, null, NOW);

    assertThat(schedule.expression()).isEqualTo(expression.strip());
    assertThat(schedule.next(ANCHOR, NOW)).contains(Instant.parse(expectedNext));
  }

  static Stream<Arguments> invalidExpressions() {
    return Stream.of(
        arguments(
            "",
            "spec.schedule: must not be empty; use rate(...), cron(...) or a 5-field cron expression"),
        arguments(
            "every day",
            "spec.schedule: \"every day\" is not rate(...), cron(...) or a 5-field cron expression"),
        arguments(
            "0 4 * *",
            "spec.schedule: \"0 4 * *\" is not rate(...), cron(...) or a 5-field cron expression"),
        arguments(
            "0 4 ? * MON *",
            "spec.schedule: \"0 4 ? * MON *\" is not rate(...), cron(...) or a 5-field cron "
                + "expression; an AWS cron expression must be wrapped in cron(...)"),
        arguments(
            "RATE(1 day)",
            "spec.schedule: \"RATE(1 day)\" is not rate(...), cron(...) or a 5-field cron expression"),
        arguments("rate(0 hours)", "spec.schedule: rate(0 hours): the value must be at least 1"),
        arguments("rate(-2 hours)", "spec.schedule: rate(-2 hours): the value must be at least 1"),
        arguments(
            "rate(1 hours)",
            "spec.schedule: rate(1 hours): use the singular unit with 1, e.g. rate(1 hour)"),
        arguments(
            "rate(2 hour)",
            "spec.schedule: rate(2 hour): use the plural unit with values other than 1, e.g. rate(2 hours)"),
        arguments(
            "rate(2 weeks)",
            "spec.schedule: rate(2 weeks): the unit must be minute, minutes, hour, hours, day or days"),
        arguments(
            "rate(1.5 hours)", "spec.schedule: rate(1.5 hours): the value must be a whole number"),
        arguments(
            "rate(12)", "spec.schedule: rate(12): expected rate(value unit), e.g. rate(12 hours)"),
        arguments(
            "rate(12 hours) daily",
            "spec.schedule: rate(12 hours) daily: expected rate(value unit), e.g. rate(12 hours)"),
        arguments(
            "rate(1001 days)",
            "spec.schedule: rate(1001 days): the interval must be at most 1000 days"),
        arguments(
            "rate(99999999999999999999 days)",
            "spec.schedule: rate(99999999999999999999 days): the interval must be at most 1000 days"),
        arguments(
            "cron(0 4 * * MON *)",
            "spec.schedule: cron(0 4 * * MON *): day-of-month and day-of-week cannot both be set; use ? in one of them"),
        arguments(
            "cron(0 4 * * * *)",
            "spec.schedule: cron(0 4 * * * *): day-of-month and day-of-week cannot both be set; use ? in one of them"),
        arguments(
            "cron(0 4 ? * ? *)",
            "spec.schedule: cron(0 4 ? * ? *): day-of-month and day-of-week cannot both be ?; set one of them"),
        arguments(
            "cron(0 4 * * MON)",
            "spec.schedule: cron(0 4 * * MON): AWS cron needs 6 fields "
                + "(minutes hours day-of-month month day-of-week year), got 5"),
        arguments(
            "cron()",
            "spec.schedule: cron(): AWS cron needs 6 fields "
                + "(minutes hours day-of-month month day-of-week year), got 0"),
        arguments(
            "cron(61 4 ? * MON *)",
            "spec.schedule: cron(61 4 ? * MON *): minutes 61: value 61 not in range [0, 59]"),
        arguments(
            "cron(0 24 ? * MON *)",
            "spec.schedule: cron(0 24 ? * MON *): hours 24: value 24 not in range [0, 23]"),
        arguments("cron(0 4 ? * FOO *)", "spec.schedule: cron(0 4 ? * FOO *): day-of-week FOO: "),
        arguments(
            "cron(0 4 ? * 8 *)",
            "spec.schedule: cron(0 4 ? * 8 *): day-of-week 8: value 8 not in range [1, 7]"),
        arguments(
            "cron(0 4 32 * ? *)",
            "spec.schedule: cron(0 4 32 * ? *): day-of-month 32: value 32 not in range [1, 31]"),
        arguments(
            "cron(0 4 1 1 ? 2020)",
            "spec.schedule: cron(0 4 1 1 ? 2020) has no run after 2026-11-29T03:00:00Z"),
        arguments(
            "cron(0 4 1 1 ? 2027)",
            "spec.schedule: cron(0 4 1 1 ? 2027) runs only once more, at 2027-01-01T04:00:00Z; "
                + "a rotation schedule must repeat"),
        arguments(
            "0 4 * * 8",
            "spec.schedule: \"0 4 * * 8\": day-of-week 8: value 8 not in range [0, 7]"),
        arguments(
            "60 4 * * *",
            "spec.schedule: \"60 4 * * *\": minutes 60: value 60 not in range [0, 59]"),
        arguments("0 4 L * *", "spec.schedule: \"0 4 L * *\": day-of-month L: "),
        arguments(
            "@reboot",
            "spec.schedule: \"@reboot\" is not a supported macro; use @yearly, @annually, "
                + "@monthly, @weekly, @daily, @midnight or @hourly"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidExpressions")
  void invalidExpressionNamesTheProblem(String expression, String expectedMessage) {
    assertThatThrownBy(() -> ScheduleParser.parse(expression, null, NOW))
        .isInstanceOfSatisfying(
            InvalidScheduleException.class,
            e -> {
              assertThat(e.field()).isEqualTo("spec.schedule");
              assertThat(e.getMessage()).startsWith(expectedMessage);
            });
  }

  @Test
  void nullExpressionIsEmpty() {
    assertThatThrownBy(() -> ScheduleParser.parse(null, null, NOW))
        .hasMessage(
            "spec.schedule: must not be empty; use rate(...), cron(...) or a 5-field cron expression");
  }

  static Stream<Arguments> shortestIntervals() {
    return Stream.of(
        arguments("rate(12 hours)", Duration.ofHours(12)),
        arguments("rate(1 day)", Duration.ofDays(1)),
        arguments("cron(0/15 * * * ? *)", Duration.ofMinutes(15)),
        // Weekdays only: the Friday→Monday gap is longer, the shortest is one day.
        arguments("cron(0 4 ? * MON-FRI *)", Duration.ofDays(1)),
        arguments("cron(0 4 ? * MON *)", Duration.ofDays(7)),
        // Last day of the month: January 31 → February 28 is the shortest gap in the sample.
        arguments("cron(0 10 L * ? *)", Duration.ofDays(28)),
        arguments("0 4,5 * * *", Duration.ofHours(1)),
        arguments("0 4 13 * 5", Duration.ofDays(1)));
  }

  @ParameterizedTest(name = "{0} runs at most every {1}")
  @MethodSource("shortestIntervals")
  void shortestInterval(String expression, Duration expected) {
    assertThat(ScheduleParser.parse(expression, null, NOW).shortestInterval()).isEqualTo(expected);
  }

  static Stream<Arguments> tooFrequent() {
    return Stream.of(
        arguments(
            "rate(5 minutes)",
            Duration.ofHours(1),
            "spec.schedule: rate(5 minutes) is more frequent than the minimum interval of 1h"),
        arguments(
            "rate(3 hours)",
            Duration.ofHours(4),
            "spec.schedule: rate(3 hours) is more frequent than the minimum interval of 4h"),
        arguments(
            "cron(0/15 * * * ? *)",
            Duration.ofHours(1),
            "spec.schedule: cron(0/15 * * * ? *) is more frequent than the minimum interval of 1h (runs can be 15m apart)"),
        arguments(
            "*/30 * * * *",
            Duration.ofMinutes(45),
            "spec.schedule: \"*/30 * * * *\" is more frequent than the minimum interval of 45m (runs can be 30m apart)"),
        arguments(
            "0 4,5 * * *",
            Duration.ofHours(4),
            "spec.schedule: \"0 4,5 * * *\" is more frequent than the minimum interval of 4h (runs can be 1h apart)"));
  }

  @ParameterizedTest(name = "{0} with minimum {1}")
  @MethodSource("tooFrequent")
  void moreFrequentThanTheMinimumIsRejected(
      String expression, Duration minimum, String expectedMessage) {
    assertThatThrownBy(() -> ScheduleParser.parse(expression, minimum, NOW))
        .hasMessage(expectedMessage);
  }

  static Stream<Arguments> frequentEnough() {
    return Stream.of(
        arguments("rate(1 hour)", Duration.ofHours(1)),
        arguments("rate(4 hours)", Duration.ofHours(4)),
        arguments("cron(0 * * * ? *)", Duration.ofHours(1)),
        arguments("cron(0 4 ? * MON-FRI *)", Duration.ofHours(24)),
        arguments("@daily", Duration.ofHours(4)),
        arguments("*/30 * * * *", Duration.ZERO));
  }

  @ParameterizedTest(name = "{0} with minimum {1}")
  @MethodSource("frequentEnough")
  void anIntervalEqualToTheMinimumIsAccepted(String expression, Duration minimum) {
    assertThat(ScheduleParser.parse(expression, minimum, NOW).shortestInterval())
        .isGreaterThanOrEqualTo(minimum);
  }

  @Test
  void rateGridStartsAtTheAnchor() {
    Schedule schedule = ScheduleParser.parse("rate(12 hours)", null, NOW);

    assertThat(schedule.next(ANCHOR, ANCHOR)).contains(Instant.parse("2026-11-01T12:00:00Z"));
    assertThat(schedule.next(ANCHOR, ANCHOR.minusSeconds(3600)))
        .contains(Instant.parse("2026-11-01T12:00:00Z"));
    assertThat(schedule.next(ANCHOR, Instant.parse("2026-11-01T11:59:59.999Z")))
        .contains(Instant.parse("2026-11-01T12:00:00Z"));
    assertThat(schedule.next(ANCHOR, Instant.parse("2026-11-01T12:00:00Z")))
        .contains(Instant.parse("2026-11-02T00:00:00Z"));
  }

  @Test
  void cronIgnoresTheAnchorAndEndsWithItsLastYear() {
    Schedule schedule = ScheduleParser.parse("cron(0 4 ? * MON 2026)", null, NOW);

    assertThat(schedule.next(Instant.EPOCH, NOW)).contains(Instant.parse("2026-11-30T04:00:00Z"));
    assertThat(schedule.next(ANCHOR, NOW)).contains(Instant.parse("2026-11-30T04:00:00Z"));
    assertThat(schedule.next(ANCHOR, Instant.parse("2026-12-28T04:00:00Z"))).isEmpty();
  }

  @Test
  void dialectsAreRecognised() {
    assertThat(ScheduleParser.parse("rate(1 day)", null, NOW))
        .isEqualTo(new RateSchedule("rate(1 day)", Duration.ofDays(1)));
    assertThat(ScheduleParser.parse("cron(0 4 ? * MON *)", null, NOW))
        .isInstanceOfSatisfying(
            CronSchedule.class, c -> assertThat(c.dialect()).isEqualTo(CronSchedule.Dialect.AWS));
    assertThat(ScheduleParser.parse("0 4 * * MON", null, NOW))
        .isInstanceOfSatisfying(
            CronSchedule.class, c -> assertThat(c.dialect()).isEqualTo(CronSchedule.Dialect.UNIX));
  }
}
