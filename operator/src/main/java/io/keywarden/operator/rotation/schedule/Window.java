package io.keywarden.operator.rotation.schedule;

import static io.keywarden.operator.rotation.schedule.InvalidScheduleException.WINDOW_FIELD;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code RotationSchedule.spec.window}: how long after each scheduled instant the rotation may
 * happen (AWS Secrets Manager's rotation window {@code Duration}, which also starts at the
 * scheduled time). Written as hours, minutes and seconds in that order: {@code 2h}, {@code 30m},
 * {@code 1h30m}.
 */
public record Window(Duration length) {

  /**
   * No window: rotate exactly at the scheduled instant. Use it when {@code spec.window} is absent.
   */
  public static final Window NONE = new Window(Duration.ZERO);

  // Nine digits per part: far beyond any useful window, and a long cannot overflow.
  private static final Pattern FORMAT =
      Pattern.compile("(?:(\\d{1,9})h)?(?:(\\d{1,9})m)?(?:(\\d{1,9})s)?");

  public Window {
    if (length.isNegative()) {
      throw new IllegalArgumentException("window must not be negative: " + length);
    }
  }

  /**
   * @param text {@code spec.window}, or {@code null} when absent ({@link #NONE})
   * @param schedule the already parsed {@code spec.schedule}
   * @throws InvalidScheduleException naming {@code spec.window}, when the text is malformed or the
   *     window is not shorter than the schedule's (shortest) interval, which would let one period's
   *     rotation slide past the next period's
   */
  public static Window parse(String text, Schedule schedule) {
    if (text == null) {
      return NONE;
    }
    String trimmed = text.strip();
    Matcher m = FORMAT.matcher(trimmed);
    if (trimmed.isEmpty() || !m.matches()) {
      throw new InvalidScheduleException(
          WINDOW_FIELD,
          '"' + text + "\" is not a duration like 2h, 30m or 1h30m; omit the field for no window");
    }
    Duration length = Duration.ofHours(part(m, 1)).plusMinutes(part(m, 2)).plusSeconds(part(m, 3));
    Duration interval = schedule.shortestInterval();
    if (length.compareTo(interval) >= 0) {
      String shown = ScheduleParser.shown(schedule.expression(), schedule);
      String what =
          schedule instanceof CronSchedule
              ? "the shortest gap between runs of " + shown
              : "the interval of " + shown;
      throw new InvalidScheduleException(
          WINDOW_FIELD, trimmed + " must be shorter than " + what + " (" + format(interval) + ")");
    }
    return new Window(length);
  }

  private static long part(Matcher m, int group) {
    String digits = m.group(group);
    return digits == null ? 0 : Long.parseLong(digits);
  }

  /** Formats a duration the way {@code spec.window} is written ({@code 1h30m}), for messages. */
  static String format(Duration duration) {
    if (duration.isZero()) {
      return "0s";
    }
    StringBuilder text = new StringBuilder();
    long hours = duration.toHours();
    if (hours > 0) {
      text.append(hours).append('h');
    }
    if (duration.toMinutesPart() > 0) {
      text.append(duration.toMinutesPart()).append('m');
    }
    if (duration.toSecondsPart() > 0) {
      text.append(duration.toSecondsPart()).append('s');
    }
    return text.toString();
  }

  @Override
  public String toString() {
    return format(length);
  }
}
