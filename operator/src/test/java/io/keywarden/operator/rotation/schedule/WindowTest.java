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

class WindowTest {

  static final Instant NOW = Instant.parse("2026-11-29T03:00:00Z");
  static final Schedule DAILY = ScheduleParser.parse("cron(0 4 * * ? *)", null, NOW);

  static Stream<Arguments> validWindows() {
    return Stream.of(
        arguments("2h", Duration.ofHours(2)),
        arguments("30m", Duration.ofMinutes(30)),
        arguments("1h30m", Duration.ofMinutes(90)),
        arguments("90s", Duration.ofSeconds(90)),
        arguments("1h0m30s", Duration.ofSeconds(3630)),
        arguments(" 23h59m ", Duration.ofMinutes(23 * 60 + 59)),
        arguments("0m", Duration.ZERO));
  }

  @ParameterizedTest(name = "{0} → {1}")
  @MethodSource("validWindows")
  void parses(String text, Duration expected) {
    assertThat(Window.parse(text, DAILY).length()).isEqualTo(expected);
  }

  @Test
  void absentMeansNoWindow() {
    assertThat(Window.parse(null, DAILY)).isEqualTo(Window.NONE);
    assertThat(Window.NONE.length()).isZero();
  }

  static Stream<Arguments> invalidWindows() {
    return Stream.of(
        arguments(
            "",
            "cron(0 4 * * ? *)",
            "spec.window: \"\" is not a duration like 2h, 30m or 1h30m; omit the field for no window"),
        arguments(
            "2x",
            "cron(0 4 * * ? *)",
            "spec.window: \"2x\" is not a duration like 2h, 30m or 1h30m"),
        arguments(
            "1.5h",
            "cron(0 4 * * ? *)",
            "spec.window: \"1.5h\" is not a duration like 2h, 30m or 1h30m"),
        arguments(
            "30m1h",
            "cron(0 4 * * ? *)",
            "spec.window: \"30m1h\" is not a duration like 2h, 30m or 1h30m"),
        arguments(
            "1d",
            "cron(0 4 * * ? *)",
            "spec.window: \"1d\" is not a duration like 2h, 30m or 1h30m"),
        arguments(
            "-1h",
            "cron(0 4 * * ? *)",
            "spec.window: \"-1h\" is not a duration like 2h, 30m or 1h30m"),
        arguments(
            "2h",
            "rate(2 hours)",
            "spec.window: 2h must be shorter than the interval of rate(2 hours) (2h)"),
        arguments(
            "25h",
            "rate(1 day)",
            "spec.window: 25h must be shorter than the interval of rate(1 day) (24h)"),
        arguments(
            "15m",
            "cron(0/15 * * * ? *)",
            "spec.window: 15m must be shorter than the shortest gap between runs of cron(0/15 * * * ? *) (15m)"),
        // Runs at 04:00 and 05:00: the 1h gap, not the 23h one, bounds the window.
        arguments(
            "2h",
            "0 4,5 * * *",
            "spec.window: 2h must be shorter than the shortest gap between runs of \"0 4,5 * * *\" (1h)"));
  }

  @ParameterizedTest(name = "{0} for {1}")
  @MethodSource("invalidWindows")
  void invalidWindowNamesTheProblem(String text, String schedule, String expectedMessage) {
    Schedule parsed = ScheduleParser.parse(schedule, null, NOW);

    assertThatThrownBy(() -> Window.parse(text, parsed))
        .isInstanceOfSatisfying(
            InvalidScheduleException.class,
            e -> {
              assertThat(e.field()).isEqualTo("spec.window");
              assertThat(e.getMessage()).startsWith(expectedMessage);
            });
  }

  @Test
  void aWindowJustShorterThanTheIntervalIsAccepted() {
    Schedule quarterly = ScheduleParser.parse("cron(0/15 * * * ? *)", null, NOW);

    assertThat(Window.parse("14m59s", quarterly).length()).isEqualTo(Duration.ofSeconds(899));
  }

  static Stream<Arguments> formats() {
    return Stream.of(
        arguments(Duration.ZERO, "0s"),
        arguments(Duration.ofMinutes(90), "1h30m"),
        arguments(Duration.ofDays(2), "48h"),
        arguments(Duration.ofSeconds(61), "1m1s"));
  }

  @ParameterizedTest(name = "{0} → {1}")
  @MethodSource("formats")
  void formatsLikeTheFieldIsWritten(Duration duration, String expected) {
    assertThat(Window.format(duration)).isEqualTo(expected);
  }
}
