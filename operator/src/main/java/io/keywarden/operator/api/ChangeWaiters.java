package io.keywarden.operator.api;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * Long-poll waiters by secret: a waiter is told as soon as the secret's CURRENT version changes.
 * Waiters hold no thread, only a callback, so ten thousand of them cost little memory.
 *
 * <p>A change tells its waiters {@value #BATCH} at a time per event loop: each batch is a task on
 * the waiters' loop that tells its share and queues the next batch behind whatever else came
 * meanwhile. Told all at once, 10,000 waiters put 5,000 answers on each loop ahead of everything
 * else, and the put that woke them waited up to 2.7 s for its own answer behind them.
 */
public final class ChangeWaiters {

  private static final Logger LOG = Logger.getLogger(ChangeWaiters.class);

  /** Waiters told per task on an event loop: about 10 ms of answers from the caches. */
  static final int BATCH = 64;

  public interface Waiter {
    /** Called once, on {@link #loop}; returns without blocking. */
    void changed();

    /** The event loop of the waiter's connection, where {@link #changed} is called. */
    Executor loop();
  }

  private final Map<String, Set<Waiter>> bySecret = new ConcurrentHashMap<>();
  private final AtomicInteger count = new AtomicInteger();
  private final int limit;

  public ChangeWaiters(int limit) {
    this.limit = limit;
  }

  /** False when the limit is reached; the caller answers 429. */
  public boolean add(String namespace, String name, Waiter waiter) {
    if (count.incrementAndGet() > limit) {
      count.decrementAndGet();
      return false;
    }
    // Every change to a set happens in a compute on its key, so notifyChanged, which takes the set
    // out of the map, sees it whole: a waiter is never added to a set already woken, and the
    // count never drifts.
    bySecret.compute(
        namespace + "/" + name,
        (k, waiters) -> {
          Set<Waiter> set = waiters == null ? ConcurrentHashMap.newKeySet() : waiters;
          set.add(waiter);
          return set;
        });
    return true;
  }

  public void remove(String namespace, String name, Waiter waiter) {
    bySecret.computeIfPresent(
        namespace + "/" + name,
        (k, waiters) -> {
          if (waiters.remove(waiter)) {
            count.decrementAndGet();
          }
          return waiters; // kept empty: byNamespace reports the namespace's 0
        });
  }

  /** Whether anyone waits for this secret now. */
  public boolean anyWaiting(String namespace, String name) {
    Set<Waiter> waiters = bySecret.get(namespace + "/" + name);
    return waiters != null && !waiters.isEmpty();
  }

  public void notifyChanged(String namespace, String name) {
    Set<Waiter> waiters = bySecret.remove(namespace + "/" + name);
    if (waiters != null) {
      count.addAndGet(-waiters.size());
      Map<Executor, List<Waiter>> byLoop = new HashMap<>();
      waiters.forEach(w -> byLoop.computeIfAbsent(w.loop(), k -> new ArrayList<>()).add(w));
      byLoop.forEach((loop, told) -> new Batches(loop, told).queue());
    }
  }

  /** Tells one loop's waiters, a batch per task. */
  private static final class Batches implements Runnable {
    private final Executor loop;
    private final List<Waiter> waiters;
    private int next;

    Batches(Executor loop, List<Waiter> waiters) {
      this.loop = loop;
      this.waiters = waiters;
    }

    @Override
    public void run() {
      int end = Math.min(next + BATCH, waiters.size());
      while (next < end) {
        Waiter waiter = waiters.get(next++);
        try {
          waiter.changed();
        } catch (RuntimeException e) {
          // One waiter's fault must not leave the others waiting.
          LOG.warnf(e, "a woken long-poll failed");
        }
      }
      if (next < waiters.size()) {
        queue();
      }
    }

    void queue() {
      try {
        loop.execute(this);
      } catch (RejectedExecutionException e) {
        // The loop is shutting down, and its connections with it.
        LOG.debugf("%d woken long-polls not answered: event loop shut down", waiters.size() - next);
      }
    }
  }

  public int size() {
    return count.get();
  }

  /** Waiters by namespace, for metrics; a namespace whose waiters all left counts 0. */
  public Map<String, Integer> byNamespace() {
    Map<String, Integer> result = new TreeMap<>();
    bySecret.forEach(
        (key, waiters) ->
            result.merge(key.substring(0, key.indexOf('/')), waiters.size(), Integer::sum));
    return result;
  }
}
