package io.keywarden.operator.rotation.schedule;

import static io.keywarden.operator.rotation.schedule.InvalidScheduleException.SCHEDULE_FIELD;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns {@code RotationSchedule.spec.schedule} into a {@link Schedule}. Three forms are accepted:
 *
 * <ul>
 *   <li>{@code rate(N minute|minutes|hour|hours|day|days)} with the AWS rules: N ≥ 1, the singular
 *       unit exactly when N is 1; at most 1000 days, the Secrets Manager maximum.
 *   <li>AWS {@code cron(minutes hours day-of-month month day-of-week year)}. cron-utils 9.2.1 has
 *       no AWS {@link CronType}, but AWS cron is Quartz cron without the seconds field (same
 *       day-of-week numbering 1-7 = SUN-SAT, same {@code ? L W #}), so it is evaluated as Quartz
 *       with {@code 0} seconds prepended. The AWS "exactly one of day-of-month and day-of-week is
 *       ?" rule is checked here first, to give a precise message. Known differences: cron-utils
 *       caps the year at 2099 (AWS: 2199) and also accepts Quartz extras such as {@code L-2} and
 *       {@code LW}.
 *   <li>Standard 5-field cron ({@link CronType#UNIX}, day-of-month OR day-of-week as in
 *       crontab(5)), plus the macros Kubernetes CronJob accepts ({@code @daily}, ...). cron-utils
 *       maps SUN to 7 in this dialect, so the range {@code SUN-SAT} is rejected; {@code 0-6} works.
 * </ul>
 */
public final class ScheduleParser {

  /**
   * Runs sampled to estimate a cron expression's shortest interval; see {@link
   * CronSchedule#shortestInterval()}.
   */
  static final int CRON_SAMPLE = 50;

  /**
   * Secrets Manager's upper bound for a rotation interval
   * (RotationRulesType.AutomaticallyAfterDays).
   */
  static final Duration MAX_RATE = Duration.ofDays(1000);

  private static final Pattern RATE = Pattern.compile("rate\\(\\s*(\\S+)\\s+(\\S+)\\s*\\)");
  private static final Pattern AWS_CRON = Pattern.compile("cron\\((.*)\\)");
  private static final Pattern WHOLE_NUMBER = Pattern.compile("-?\\d+");
  private static final Pattern FIELD_SEPARATOR = Pattern.compile("\\s+");

  // CronParser keeps no state between calls, so one instance per dialect is shared.
  private static final CronParser QUARTZ_PARSER =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ));
  private static final CronParser UNIX_PARSER =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

  /** Field names as the AWS documentation spells them; the Unix dialect has the first five. */
  private static final List<String> FIELD_NAMES =
      List.of("minutes", "hours", "day-of-month", "month", "day-of-week", "year");

  /**
   * Known-good expressions into which one user field at a time is substituted to find the faulty
   * one.
   */
  private static final List<String> AWS_VALID = List.of("0", "0", "1", "*", "?", "*");

  private static final List<String> UNIX_VALID = List.of("0", "0", "*", "*", "*");

  /**
   * The macros of Kubernetes CronJob (robfig/cron's standard parser), spelled out for cron-utils.
   */
  private static final Map<String, String> UNIX_MACROS =
      Map.of(
          "@yearly",
          "0 0 1 1 *",
          "@annually",
          "0 0 1 1 *",
          "@monthly",
          "0 0 1 * *",
          "@weekly",
          "0 0 * * 0",
          "@daily",
          "0 0 * * *",
          "@midnight",
          "0 0 * * *",
          "@hourly",
          "0 * * * *");

  private ScheduleParser() {}

  /**
   * Parses with the current time as the start of the cron sample; see {@link #parse(String,
   * Duration, Instant)}.
   */
  public static Schedule parse(String expression, Duration minimumInterval) {
    return parse(expression, minimumInterval, Instant.now());
  }

  /**
   * @param minimumInterval the operator's floor for rotation frequency; {@code null} or zero
   *     disables the check
   * @param now where the cron sample starts: a cron expression must still run at least twice after
   *     it
   * @throws InvalidScheduleException naming {@code spec.schedule} and what is wrong
   */
  public static Schedule parse(String expression, Duration minimumInterval, Instant now) {
    if (expression == null || expression.isBlank()) {
      throw invalid("must not be empty; use rate(...), cron(...) or a 5-field cron expression");
    }
    String text = expression.strip();
    Schedule schedule;
    if (text.startsWith("rate(")) {
      schedule = parseRate(text);
    } else if (text.startsWith("cron(")) {
      schedule = parseAwsCron(text, now);
    } else {
      schedule = parseUnixCron(text, now);
    }
    if (minimumInterval != null && schedule.shortestInterval().compareTo(minimumInterval) < 0) {
      String gap =
          schedule instanceof CronSchedule
              ? " (runs can be " + Window.format(schedule.shortestInterval()) + " apart)"
              : "";
      throw invalid(
          shown(text, schedule)
              + " is more frequent than the minimum interval of "
              + Window.format(minimumInterval)
              + gap);
    }
    return schedule;
  }

  private static RateSchedule parseRate(String text) {
    Matcher m = RATE.matcher(text);
    if (!m.matches()) {
      throw invalid(text + ": expected rate(value unit), e.g. rate(12 hours)");
    }
    String value = m.group(1);
    String unit = m.group(2);
    if (!WHOLE_NUMBER.matcher(value).matches()) {
      throw invalid(text + ": the value must be a whole number");
    }
    ChronoUnit chronoUnit =
        switch (unit) {
          case "minute", "minutes" -> ChronoUnit.MINUTES;
          case "hour", "hours" -> ChronoUnit.HOURS;
          case "day", "days" -> ChronoUnit.DAYS;
          default ->
              throw invalid(text + ": the unit must be minute, minutes, hour, hours, day or days");
        };
    long n;
    try {
      n = Long.parseLong(value);
    } catch (NumberFormatException tooManyDigits) {
      throw invalid(text + ": the interval must be at most 1000 days");
    }
    if (n < 1) {
      throw invalid(text + ": the value must be at least 1");
    }
    boolean singular = !unit.endsWith("s");
    if (n == 1 && !singular) {
      throw invalid(
          text
              + ": use the singular unit with 1, e.g. rate(1 "
              + unit.substring(0, unit.length() - 1)
              + ")");
    }
    if (n != 1 && singular) {
      throw invalid(
          text
              + ": use the plural unit with values other than 1, e.g. rate("
              + n
              + " "
              + unit
              + "s)");
    }
    // Compare before multiplying so that a huge N cannot overflow the Duration.
    if (n > MAX_RATE.dividedBy(chronoUnit.getDuration())) {
      throw invalid(text + ": the interval must be at most 1000 days");
    }
    return new RateSchedule(text, chronoUnit.getDuration().multipliedBy(n));
  }

  private static CronSchedule parseAwsCron(String text, Instant now) {
    Matcher m = AWS_CRON.matcher(text);
    if (!m.matches()) {
      throw invalid(text + ": expected cron(minutes hours day-of-month month day-of-week year)");
    }
    String inner = m.group(1).strip();
    String[] fields = inner.isEmpty() ? new String[0] : FIELD_SEPARATOR.split(inner);
    if (fields.length != AWS_VALID.size()) {
      throw invalid(
          text
              + ": AWS cron needs 6 fields (minutes hours day-of-month month day-of-week year), got "
              + fields.length);
    }
    // AWS rule (EventBridge/Secrets Manager): a value or * in one of the two day fields requires ?
    // in the other.
    boolean dayOfMonthUnset = fields[2].equals("?");
    boolean dayOfWeekUnset = fields[4].equals("?");
    if (!dayOfMonthUnset && !dayOfWeekUnset) {
      throw invalid(
          text + ": day-of-month and day-of-week cannot both be set; use ? in one of them");
    }
    if (dayOfMonthUnset && dayOfWeekUnset) {
      throw invalid(text + ": day-of-month and day-of-week cannot both be ?; set one of them");
    }
    // Quartz = AWS with a leading seconds field.
    Cron cron = parseCron(text, QUARTZ_PARSER, fields, AWS_VALID, List.of("0"));
    return measured(text, CronSchedule.Dialect.AWS, cron, now);
  }

  private static CronSchedule parseUnixCron(String text, Instant now) {
    String fiveFields = text;
    if (text.startsWith("@")) {
      fiveFields = UNIX_MACROS.get(text);
      if (fiveFields == null) {
        throw invalid(
            '"'
                + text
                + "\" is not a supported macro; use @yearly, @annually, @monthly, @weekly, "
                + "@daily, @midnight or @hourly");
      }
    }
    String[] fields = FIELD_SEPARATOR.split(fiveFields);
    if (fields.length != UNIX_VALID.size()) {
      String hint =
          fields.length == AWS_VALID.size()
              ? "; an AWS cron expression must be wrapped in cron(...)"
              : "";
      throw invalid(
          '"' + text + "\" is not rate(...), cron(...) or a 5-field cron expression" + hint);
    }
    Cron cron =
        parseCron(
            shown(text, CronSchedule.Dialect.UNIX), UNIX_PARSER, fields, UNIX_VALID, List.of());
    return measured(text, CronSchedule.Dialect.UNIX, cron, now);
  }

  /**
   * Parses with cron-utils. cron-utils' messages do not say which field is wrong ("value 8 not in
   * range [1, 7]"), so on failure each field is tried alone inside an otherwise valid expression,
   * still parsed by cron-utils, and the first one that fails is named.
   */
  private static Cron parseCron(
      String shown,
      CronParser parser,
      String[] fields,
      List<String> validTemplate,
      List<String> prefix) {
    try {
      return parser.parse(cronText(prefix, fields));
    } catch (IllegalArgumentException wholeExpression) {
      for (int i = 0; i < fields.length; i++) {
        String[] probe = validTemplate.toArray(String[]::new);
        probe[i] = fields[i];
        if (!prefix.isEmpty() && (i == 2 || i == 4)) {
          // AWS: keep the day-of-month/day-of-week pair legal, with exactly one ?.
          probe[6 - i] = fields[i].equals("?") ? "1" : "?";
        }
        try {
          parser.parse(cronText(prefix, probe));
        } catch (IllegalArgumentException field) {
          throw invalid(
              shown + ": " + FIELD_NAMES.get(i) + " " + fields[i] + ": " + libraryMessage(field));
        }
      }
      throw invalid(shown + ": " + libraryMessage(wholeExpression));
    }
  }

  private static String cronText(List<String> prefix, String[] fields) {
    return String.join(" ", prefix) + (prefix.isEmpty() ? "" : " ") + String.join(" ", fields);
  }

  /**
   * cron-utils prefixes its messages and capitalises them; keep only the part that helps the user.
   */
  private static String libraryMessage(IllegalArgumentException e) {
    String message =
        String.valueOf(e.getMessage()).replace("Failed to parse cron expression. ", "").strip();
    return message.isEmpty()
        ? message
        : Character.toLowerCase(message.charAt(0)) + message.substring(1);
  }

  /**
   * Builds the schedule after sampling its runs from {@code now}; see {@link
   * CronSchedule#shortestInterval()}.
   */
  private static CronSchedule measured(
      String text, CronSchedule.Dialect dialect, Cron cron, Instant now) {
    String shown = shown(text, dialect);
    ExecutionTime executionTime = ExecutionTime.forCron(cron);
    Optional<Instant> previous = CronSchedule.nextRun(executionTime, now);
    if (previous.isEmpty()) {
      throw invalid(shown + " has no run after " + now);
    }
    Duration shortest = null;
    for (int i = 1; i < CRON_SAMPLE; i++) {
      Optional<Instant> following = CronSchedule.nextRun(executionTime, previous.get());
      if (following.isEmpty()) {
        break;
      }
      Duration gap = Duration.between(previous.get(), following.get());
      shortest = shortest == null || gap.compareTo(shortest) < 0 ? gap : shortest;
      previous = following;
    }
    if (shortest == null) {
      throw invalid(
          shown
              + " runs only once more, at "
              + previous.get()
              + "; a rotation schedule must repeat (annotate keywarden.io/rotate-now for a one-off rotation)");
    }
    return new CronSchedule(text, dialect, executionTime, shortest);
  }

  /**
   * rate(...) and cron(...) delimit themselves; a bare Unix expression is quoted so that its end is
   * visible.
   */
  private static String shown(String text, CronSchedule.Dialect dialect) {
    return dialect == CronSchedule.Dialect.UNIX ? '"' + text + '"' : text;
  }

  /** How messages show a parsed expression; {@link Window} uses it too. */
  static String shown(String text, Schedule schedule) {
    return schedule instanceof CronSchedule cron ? shown(text, cron.dialect()) : text;
  }

  private static InvalidScheduleException invalid(String problem) {
    return new InvalidScheduleException(SCHEDULE_FIELD, problem);
  }
}
