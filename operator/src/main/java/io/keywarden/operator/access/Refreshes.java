package io.keywarden.operator.access;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where reviews missing from the caches are asked, and cached ones again ahead of their expiry:
 * daemon threads of their own, since a review is a blocking call to the API server (Caffeine's
 * default, the common fork-join pool, has one thread on two CPUs and is shared with everything
 * else). Each key is loaded or refreshed at most once at a time, so the queue holds at most one
 * task per key; eight threads keep a burst of new callers from queueing behind each other.
 */
final class Refreshes {

  static final ExecutorService EXECUTOR = executor();

  private Refreshes() {}

  private static ExecutorService executor() {
    AtomicInteger threads = new AtomicInteger();
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            8,
            8,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "keywarden-refresh-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }
}
