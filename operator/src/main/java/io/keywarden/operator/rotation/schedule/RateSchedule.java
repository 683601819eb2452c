package io.keywarden.operator.rotation.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code rate(N unit)}: runs at {@code anchor + k * interval} for k ≥ 1.
 *
 * <p>AWS Secrets Manager starts a rate's window at midnight UTC; Keywarden instead anchors the grid
 * on a caller-chosen instant. Pass a stable one (the RotationSchedule's creation time): anchoring
 * on the last rotation would push every run later by that secret's jitter, period after period.
 */
public record RateSchedule(String expression, Duration interval) implements Schedule {

  public RateSchedule {
    Objects.requireNonNull(expression, "expression");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive: " + interval);
    }
  }

  @Override
  public Duration shortestInterval() {
    return interval;
  }

  @Override
  public Optional<Instant> next(Instant anchor, Instant after) {
    Duration elapsed = Duration.between(anchor, after);
    // k ≥ 1: the anchor itself is a creation or a rotation, never a scheduled run.
    long k = elapsed.isNegative() ? 1 : elapsed.dividedBy(interval) + 1;
    return Optional.of(anchor.plus(interval.multipliedBy(k)));
  }

  @Override
  public String toString() {
    return expression;
  }
}
