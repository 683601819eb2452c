package io.keywarden.agent;

import java.time.Duration;
import java.util.Random;

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * the n-th consecutive failure waits a random time in [0, min(60 s, 1 s * 2^(n-1))), and at least
 * the server's {@code Retry-After} when it sent one.
 */
final class Backoff {

  static final Duration INITIAL = Duration.ofSeconds(1);
  static final Duration MAX = Duration.ofSeconds(60);
  // 2^6 s already exceeds MAX; stopping there keeps the shift small.
  private static final int MAX_EXPONENT = 6;

  private final Random random;
  private int failures;

  Backoff(Random random) {
    this.random = random;
  }

  /** The wait after one more failure; {@code retryAfter} (nullable) is the server's minimum. */
  Duration next(Duration retryAfter) {
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
