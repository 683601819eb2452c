package io.keywarden.operator.rotation.schedule;

import io.keywarden.operator.crypto.Sha256;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * When one secret rotates: the next scheduled instant plus a per-secret offset inside the window.
 *
 * <p>The offset ("jitter") is derived from a stable seed, the ManagedSecret's uid: it spreads many
 * secrets that share a schedule across the window instead of rotating them all at once, and it is
 * the same after an operator restart or on another replica, so the promised {@code
 * status.nextRotationTime} does not move.
 *
 * <p>The next slot is the first one whose rotation instant ({@code slot + jitter}) lies after the
 * last rotation. A scheduled rotation therefore leads to the following slot without drift; a slot
 * missed while the operator was down makes the secret due at once, and rotating it then skips the
 * other missed slots rather than catching up on each.
 *
 * @param anchor where a rate's grid starts; use the RotationSchedule's creation time (see {@link
 *     RateSchedule})
 * @param lastRotation the last rotation, or {@code null} when the secret has never been rotated
 *     (the first slot is then the first one after the anchor)
 * @param seed a stable per-secret value, e.g. {@code metadata.uid}
 */
public record RotationTiming(
    Schedule schedule, Window window, Instant anchor, Instant lastRotation, String seed) {

  public RotationTiming {
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(window, "window");
    Objects.requireNonNull(anchor, "anchor");
    Objects.requireNonNull(seed, "seed");
  }

  /** The secret's offset into every window, in [0, window); zero without a window. */
  public Duration jitter() {
    long windowMillis = window.length().toMillis();
    if (windowMillis == 0) {
      return Duration.ZERO;
    }
    // SHA-256 rather than String.hashCode: uids differ in few characters, and hashCode's low
    // bits would cluster; the modulo bias over 64 bits is negligible for any real window.
    long hash = ByteBuffer.wrap(Sha256.ofUtf8(seed)).getLong();
    return Duration.ofMillis(Long.remainderUnsigned(hash, windowMillis));
  }

  /**
   * The scheduled instant (start of the window) of the next rotation; empty when the schedule has
   * ended.
   */
  public Optional<Instant> scheduledAt() {
    Instant last = lastRotation == null ? anchor : lastRotation;
    return schedule.next(anchor, last.minus(jitter()));
  }

  /**
   * When this secret should rotate: {@link #scheduledAt()} plus {@link #jitter()}; for {@code
   * status.nextRotationTime}.
   */
  public Optional<Instant> rotateAt() {
    return scheduledAt().map(slot -> slot.plus(jitter()));
  }

  /**
   * Whether the rotation instant has been reached (or passed, e.g. while the operator was down).
   */
  public boolean isDue(Instant now) {
    return rotateAt().map(at -> !at.isAfter(now)).orElse(false);
  }
}
