package io.keywarden.operator.config;

import com.github.benmanes.caffeine.cache.Caffeine;

/** How the operator builds its in-memory caches. */
public final class Caches {

  private Caches() {}

  /**
   * A Caffeine builder whose upkeep (draining the read buffers, evicting, expiring) runs on the
   * thread that reads or writes, amortized over its calls, instead of being handed to a pool: every
   * cached GetSecretValue reads about six caches on an event loop, and handing their upkeep to the
   * common fork-join pool woke one of its threads every tenth request (a context switch on a core
   * the event loops need). A cache that loads or refreshes values must start those loads on its own
   * executor, since this one would run them on the reading thread.
   */
  public static Caffeine<Object, Object> onCallingThread() {
    return Caffeine.newBuilder().executor(Runnable::run);
  }
}
