package io.keywarden.operator.access;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.commons.lang3.concurrent.BasicThreadFactory;

/**
 * Where reviews missing from the caches are asked, and cached ones again ahead of their expiry:
 * daemon threads of their own, since a review is a blocking call to the API server (Caffeine's
 * default, the common fork-join pool, has one thread on two CPUs and is shared with everything
 * else). Each key is loaded or refreshed at most once at a time. A review mostly waits for the API
 * server, so up to 32 run at once: a rotation wakes every pod watching the secret together, each
 * with its own token and decision to ask for (100 pods on a node: 100 TokenReviews and 100
 * SubjectAccessReviews, since a pod-bound token's identity names its pod). Idle threads end after
 * 30 s.
 */
final class Refreshes {

  private static final int THREADS = 32;

  static final ExecutorService EXECUTOR = executor();

  private Refreshes() {}

  private static ExecutorService executor() {
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            BasicThreadFactory.builder()
                .namingPattern("keywarden-refresh-%d")
                .daemon(true)
                .build());
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }
}
