package io.keywarden.operator.rotation.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A parsed {@code RotationSchedule.spec.schedule}. Obtain one from {@link ScheduleParser}; all
 * times are UTC, as in AWS Secrets Manager.
 */
public sealed interface Schedule permits RateSchedule, CronSchedule {

  /** The expression as the user wrote it (trimmed), for status and messages. */
  String expression();

  /**
   * The shortest time between two consecutive runs: exact for {@code rate(...)}, an estimate for
   * cron (see {@link CronSchedule#shortestInterval()}). The window must be shorter than this.
   */
  Duration shortestInterval();

  /**
   * The first scheduled instant strictly after {@code after}, or empty when the schedule has no run
   * left (a cron expression restricted to past years).
   *
   * @param anchor where a rate's grid starts (see {@link RateSchedule}); cron ignores it
   */
  Optional<Instant> next(Instant anchor, Instant after);
}
