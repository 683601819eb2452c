package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {

  /** A "random" source that always answers the same fraction. */
  private static Random fixed(double fraction) {
    return new Random() {
      @Override
      public double nextDouble() {
        return fraction;
      }
    };
  }

  @Test
  void ceilingDoublesFromOneSecondToSixtySeconds() {
    Backoff backoff = new Backoff(fixed(0.999999));
    List<Long> seconds = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      seconds.add(Math.round(backoff.next(null).toMillis() / 1000.0));
    }

    assertThat(seconds).containsExactly(1L, 2L, 4L, 8L, 16L, 32L, 60L, 60L, 60L);
  }

  @Test
  void fullJitterSpreadsTheWaitOverTheWholeRange() {
    assertThat(new Backoff(fixed(0.0)).next(null)).isEqualTo(Duration.ZERO);
    Backoff half = new Backoff(fixed(0.5));
    half.next(null);
    half.next(null);
    assertThat(half.next(null)).isEqualTo(Duration.ofSeconds(2));

    Backoff random = new Backoff(new Random(42));
    for (int i = 0; i < 1000; i++) {
      assertThat(random.next(null)).isBetween(Duration.ZERO, Backoff.MAX);
    }
  }

  @Test
  void retryAfterIsAMinimum() {
    Backoff backoff = new Backoff(fixed(0.0));

    assertThat(backoff.next(Duration.ofSeconds(7))).isEqualTo(Duration.ofSeconds(7));

    Backoff late = new Backoff(fixed(0.999999));
    for (int i = 0; i < 8; i++) {
      late.next(null);
    }
    assertThat(late.next(Duration.ofSeconds(3)).toSeconds())
        .as("a longer backoff wins")
        .isEqualTo(59);
  }

  @Test
  void resetStartsOver() {
    Backoff backoff = new Backoff(fixed(0.999999));
    for (int i = 0; i < 5; i++) {
      backoff.next(null);
    }

    backoff.reset();

    assertThat(backoff.next(null).toMillis()).isLessThan(1000);
  }
}
