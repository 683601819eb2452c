package io.keywarden.contract;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When the agent looks for a new value: {@code watch} (long-poll, rewrite as soon as the value
 * changes), {@code none} (write once at start) or an interval: hours, minutes and seconds in that
 * order, each part optional and at most six digits, at least one second in all, such as {@code
 * 30s}, {@code 5m}, {@code 1h} or {@code 1h30m} (a subset of Go's duration syntax, without
 * fractions or smaller units).
 */
public sealed interface Refresh {

  /** Rewrite as soon as the value changes. */
  record Watch() implements Refresh {}

  /** Poll at a fixed interval of at least one second. */
  record Every(Duration interval) implements Refresh {
    public Every {
      if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("interval must be at least 1s");
      }
    }
  }

  /** Write once at start. */
  record Never() implements Refresh {}

  // Six digits per part reach 999999h (about 114 years) and cannot overflow a Duration.
  Pattern INTERVAL = Pattern.compile("(?:([0-9]{1,6})h)?(?:([0-9]{1,6})m)?(?:([0-9]{1,6})s)?");

  static Refresh parse(String text) {
    if (text.equals("watch")) {
      return new Watch();
    }
    if (text.equals("none")) {
      return new Never();
    }
    Matcher parts = INTERVAL.matcher(text);
    if (text.isEmpty() || !parts.matches()) {
      throw new GrammarException(
          "refresh "
              + GrammarException.quote(text)
              + " must be watch, none, or an interval such as 30s, 5m, 1h or 1h30m");
    }
    Duration interval =
        Duration.ofHours(amount(parts.group(1)))
            .plusMinutes(amount(parts.group(2)))
            .plusSeconds(amount(parts.group(3)));
    if (interval.isZero()) {
      throw new GrammarException(
          "refresh " + GrammarException.quote(text) + " must be an interval of at least 1s");
    }
    return new Every(interval);
  }

  /** The canonical text: watch, none, or the interval as {@code 1h30m}, {@code 5m}, {@code 45s}. */
  static String render(Refresh refresh) {
    if (refresh instanceof Every every) {
      long seconds = every.interval().toSeconds();
      StringBuilder text = new StringBuilder();
      if (seconds / 3600 > 0) {
        text.append(seconds / 3600).append('h');
      }
      if (seconds / 60 % 60 > 0) {
        text.append(seconds / 60 % 60).append('m');
      }
      if (seconds % 60 > 0) {
        text.append(seconds % 60).append('s');
      }
      return text.toString();
    }
    return refresh instanceof Never ? "none" : "watch";
  }

  private static long amount(String digits) {
    return digits == null ? 0 : Long.parseLong(digits);
  }
}
