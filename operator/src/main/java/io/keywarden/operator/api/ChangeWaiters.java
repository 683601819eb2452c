package io.keywarden.operator.api;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Long-poll waiters by secret: a waiter is told as soon as the secret's CURRENT version changes.
 * Waiters hold no thread, only a callback, so ten thousand of them cost little memory.
 */
public final class ChangeWaiters {

  public interface Waiter {
    /** Called once; returns without blocking. */
    void changed();
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
    bySecret
        .computeIfAbsent(namespace + "/" + name, k -> ConcurrentHashMap.newKeySet())
        .add(waiter);
    return true;
  }

  public void remove(String namespace, String name, Waiter waiter) {
    Set<Waiter> waiters = bySecret.get(namespace + "/" + name);
    if (waiters != null && waiters.remove(waiter)) {
      count.decrementAndGet();
    }
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
      waiters.forEach(Waiter::changed);
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
