package io.keywarden.operator.api;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Long-poll answers that could not be given on the event loop (something to ask first: a data key
 * to unwrap, a decision to review), run on the API pool by at most {@code drainers} tasks at a
 * time. A put wakes every waiter of a secret at once; submitting each answer to the pool on its own
 * overflowed the pool's queue with 10,000 waiters, and a rejected wake-up left its request with no
 * answer at all. Here the backlog holds at most one job per registered waiter (bounded by {@code
 * keywarden.api.max-waiters}), half the pool stays free for other requests, and a job answers 503
 * with Retry-After only when it truly cannot run: the pool is shut down, or the job waited longer
 * than {@code maxWait} for a thread.
 */
final class WakeUps {

  /** One woken waiter's answer. */
  interface Job {
    /** Computes and sends the answer; called on a pool thread. */
    void run();

    /** Sends 503 with Retry-After instead. */
    void reject();
  }

  private record Queued(Job job, long enqueued) {}

  private final Queue<Queued> backlog = new ConcurrentLinkedQueue<>();
  private final AtomicInteger running = new AtomicInteger();
  private final ExecutorService pool;
  private final int drainers;
  private final long maxWaitNanos;
  private final Consumer<Runnable> later;

  /**
   * @param later runs a task again a little later (a timer), when the pool's queue is full
   */
  WakeUps(ExecutorService pool, int drainers, long maxWaitMillis, Consumer<Runnable> later) {
    this.pool = pool;
    this.drainers = drainers;
    this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMillis);
    this.later = later;
  }

  void submit(Job job) {
    backlog.add(new Queued(job, System.nanoTime()));
    startDrainer();
  }

  int size() {
    return backlog.size();
  }

  private void startDrainer() {
    while (true) {
      int now = running.get();
      if (now >= drainers || backlog.isEmpty()) {
        return;
      }
      if (running.compareAndSet(now, now + 1)) {
        break;
      }
    }
    try {
      pool.execute(this::drain);
    } catch (RejectedExecutionException e) {
      running.decrementAndGet();
      if (pool.isShutdown()) {
        rejectAll();
      } else {
        // The pool's queue is full of other requests: the jobs keep their place and try again.
        later.accept(this::startDrainer);
      }
    }
  }

  private void drain() {
    try {
      Queued queued;
      while ((queued = backlog.poll()) != null) {
        if (System.nanoTime() - queued.enqueued() > maxWaitNanos) {
          queued.job().reject();
        } else {
          try {
            queued.job().run();
          } catch (RuntimeException e) {
            queued.job().reject();
          }
        }
      }
    } finally {
      running.decrementAndGet();
    }
    if (!backlog.isEmpty()) {
      startDrainer();
    }
  }

  private void rejectAll() {
    Queued queued;
    while ((queued = backlog.poll()) != null) {
      queued.job().reject();
    }
  }
}
