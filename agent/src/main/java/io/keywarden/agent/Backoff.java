package io.keywarden.agent;

import java.time.Duration;
import java.util.Random;

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * the n-th consecutive failure waits a random time in [0, min(60 s, 1 s * 2^(n-1))), and at least
 * the server's {@code Retry-After} when it sent one. A failure that ends a request the server held
 * for at least {@link #HELD} (a long-poll it had accepted) is the first of a new series: the
 * failures before it are not consecutive with it.
 */
final class Backoff {

  static final Duration INITIAL = Duration.ofSeconds(1);
  static final Duration MAX = Duration.ofSeconds(60);
  // 2^6 s already exceeds MAX; stopping there keeps the shift small.
  private static final int MAX_EXPONENT = 6;
  // Connection errors and refusals come back in milliseconds; only an accepted long-poll (or a
  // connect that waited for its timeout, which limits the retry rate by itself) lasts this long.
  static final Duration HELD = Duration.ofSeconds(10);

  private final Random random;
  private int failures;

  Backoff(Random random) {
    this.random = random;
  }

  /** The wait after one more failure; {@code retryAfter} (nullable) is the server's minimum. */
  Duration next(Duration retryAfter) {
    return next(retryAfter, Duration.ZERO);
  }

  /**
   * The wait after a failure of a request that took {@code elapsed}: one that the server held for
   * {@link #HELD} or longer starts over from the first step, as after a success. Without this an
   * agent that rode out an outage an hour ago would wait up to a minute after the next restart of
   * the API ended its long-poll.
   */
  Duration next(Duration retryAfter, Duration elapsed) {
    if (elapsed.compareTo(HELD) >= 0) {
      failures = 0;
    }
    long ceiling = Math.min(MAX.toMillis(), INITIAL.toMillis() << Math.min(failures, MAX_EXPONENT));
    failures++;
    Duration delay = Duration.ofMillis((long) (random.nextDouble() * ceiling));
    return retryAfter != null && retryAfter.compareTo(delay) > 0 ? retryAfter : delay;
  }

  /** After a success, the next failure starts from the first step again. */
  void reset() {
    failures = 0;
  }
}
