package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Woken long-polls are all answered, by a bounded number of pool tasks, whatever the pool does. */
class WakeUpsTest {

  private final List<Runnable> later = new CopyOnWriteArrayList<>();
  private ThreadPoolExecutor pool;

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  @Test
  void tenThousandWakeUpsAreAllAnsweredWithoutOverflowingASmallPoolQueue() throws Exception {
    pool = pool(4, 16);
    AtomicInteger concurrent = new AtomicInteger();
    AtomicInteger maxConcurrent = new AtomicInteger();
    Answers answers = new Answers(10_000);
    WakeUps wakeUps = new WakeUps(pool, 2, 60_000, later::add);
    for (int i = 0; i < 10_000; i++) {
      wakeUps.submit(
          answers.job(
              () -> {
                int now = concurrent.incrementAndGet();
                maxConcurrent.accumulateAndGet(now, Math::max);
                concurrent.decrementAndGet();
              }));
    }
    assertThat(answers.done.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(answers.answered.get()).isEqualTo(10_000);
    assertThat(answers.rejected.get()).isZero();
    assertThat(maxConcurrent.get()).isLessThanOrEqualTo(2);
    assertThat(later).isEmpty();
  }

  @Test
  void aFullPoolQueueMakesTheJobsWaitAndRunLaterNotFail() throws Exception {
    pool = pool(1, 1);
    CountDownLatch busy = new CountDownLatch(1);
    pool.execute(() -> await(busy)); // the only thread
    pool.execute(() -> {}); // the only queue slot
    Answers answers = new Answers(3);
    WakeUps wakeUps = new WakeUps(pool, 1, 60_000, later::add);
    for (int i = 0; i < 3; i++) {
      wakeUps.submit(answers.job(() -> {}));
    }
    assertThat(later).isNotEmpty();
    assertThat(wakeUps.size()).isEqualTo(3);

    busy.countDown();
    while (pool.getQueue().size() > 0 || pool.getActiveCount() > 0) {
      Thread.sleep(5);
    }
    later.remove(0).run(); // the timer fires
    assertThat(answers.done.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(answers.answered.get()).isEqualTo(3);
    assertThat(answers.rejected.get()).isZero();
  }

  @Test
  void aJobThatWaitedTooLongOrCannotRunAtAllIsRejectedNotDropped() throws Exception {
    pool = pool(1, 16);
    Answers tooLate = new Answers(1);
    new WakeUps(pool, 1, 0, later::add).submit(tooLate.job(() -> {}));
    assertThat(tooLate.done.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(tooLate.rejected.get()).isEqualTo(1);

    pool.shutdown();
    Answers stopped = new Answers(1);
    new WakeUps(pool, 1, 60_000, later::add).submit(stopped.job(() -> {}));
    assertThat(stopped.done.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(stopped.rejected.get()).isEqualTo(1);

    pool = pool(1, 1);
    Answers failing = new Answers(1);
    new WakeUps(pool, 1, 60_000, later::add)
        .submit(
            failing.job(
                () -> {
                  throw new IllegalStateException("boom");
                }));
    assertThat(failing.done.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(failing.rejected.get()).isEqualTo(1);
  }

  private static ThreadPoolExecutor pool(int threads, int queue) {
    return new ThreadPoolExecutor(
        threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue));
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Counts each job's one answer: a value or a 503. */
  private static final class Answers {
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger rejected = new AtomicInteger();
    final CountDownLatch done;

    Answers(int jobs) {
      done = new CountDownLatch(jobs);
    }

    WakeUps.Job job(Runnable work) {
      return new WakeUps.Job() {
        @Override
        public void run() {
          work.run();
          answered.incrementAndGet();
          done.countDown();
        }

        @Override
        public void reject() {
          rejected.incrementAndGet();
          done.countDown();
        }
      };
    }
  }
}
