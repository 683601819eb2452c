package io.keywarden.operator.rotation.schedule;

import com.cronutils.model.time.ExecutionTime;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Objects;
import java.util.Optional;

/**
 * An AWS {@code cron(...)} or a standard 5-field cron expression, evaluated by cron-utils in UTC.
 * Instances come from {@link ScheduleParser}, which validates the expression and measures {@link
 * #shortestInterval()}.
 */
public final class CronSchedule implements Schedule {

  /** Which syntax the user wrote; both run on the same cron-utils evaluator. */
  public enum Dialect {
    /**
     * {@code cron(min hour day-of-month month day-of-week year)} as in EventBridge/Secrets Manager.
     */
    AWS,
    /** {@code min hour day-of-month month day-of-week}, as in crontab(5) and Kubernetes CronJob. */
    UNIX
  }

  private final String expression;
  private final Dialect dialect;
  private final ExecutionTime executionTime;
  private final Duration shortestInterval;

  CronSchedule(
      String expression, Dialect dialect, ExecutionTime executionTime, Duration shortestInterval) {
    this.expression = Objects.requireNonNull(expression, "expression");
    this.dialect = Objects.requireNonNull(dialect, "dialect");
    this.executionTime = Objects.requireNonNull(executionTime, "executionTime");
    this.shortestInterval = Objects.requireNonNull(shortestInterval, "shortestInterval");
  }

  @Override
  public String expression() {
    return expression;
  }

  public Dialect dialect() {
    return dialect;
  }

  /**
   * The smallest gap between consecutive runs among the first {@value ScheduleParser#CRON_SAMPLE}
   * runs after parse time. An estimate: a shorter gap that first occurs later (an irregular
   * expression, e.g. a Unix day-of-month OR day-of-week combination on rare dates) is not seen. A
   * fixed sample count rather than a fixed horizon, because a weekly schedule has no gap at all
   * inside a two-day horizon.
   */
  @Override
  public Duration shortestInterval() {
    return shortestInterval;
  }

  @Override
  public Optional<Instant> next(Instant anchor, Instant after) {
    return nextRun(executionTime, after);
  }

  static Optional<Instant> nextRun(ExecutionTime executionTime, Instant after) {
    return executionTime.nextExecution(after.atZone(ZoneOffset.UTC)).map(ZonedDateTime::toInstant);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CronSchedule other
        && other.dialect == dialect
        && other.expression.equals(expression);
  }

  @Override
  public int hashCode() {
    return Objects.hash(dialect, expression);
  }

  @Override
  public String toString() {
    return expression;
  }
}
