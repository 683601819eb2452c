package io.keywarden.agent;

import io.keywarden.agent.AgentConfig.Refresh;
import io.keywarden.agent.AgentConfig.SecretRef;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Random;

/**
 * The loop of one secret, on its own thread: fetch it, hand it to {@link SecretSync}, then follow
 * it as {@code KEYWARDEN_REFRESH} says: long-poll ({@code watch}), fetch every interval, or stop
 * ({@code none}). Errors back off with full jitter and honour {@code Retry-After}; the files on
 * disk are never touched by an error.
 */
final class SecretWatcher implements Runnable {

  // A server that answers a long-poll at once with the version we already have must not make us
  // spin.
  private static final long SAME_VERSION_PAUSE_MILLIS = 1000;
  // Refusals and refused connections come back in milliseconds; a long-poll that lasted this long
  // had been accepted and held by the API.
  static final Duration HELD = Duration.ofSeconds(10);

  private final SecretRef ref;
  private final Refresh refresh;
  private final int watchTimeoutSeconds;
  private final SecretApi api;
  private final SecretSync sync;
  private final Log log;
  private final Backoff backoff;
  private final SecretValue initial;

  SecretWatcher(
      SecretRef ref, AgentConfig config, SecretApi api, SecretSync sync, Log log, Random random) {
    this(ref, config, api, sync, log, random, null);
  }

  /**
   * @param initial the value already written (nullable): the loop starts by following it instead of
   *     fetching it again
   */
  SecretWatcher(
      SecretRef ref,
      AgentConfig config,
      SecretApi api,
      SecretSync sync,
      Log log,
      Random random,
      SecretValue initial) {
    this.initial = initial;
    this.ref = ref;
    this.refresh = config.refresh();
    this.watchTimeoutSeconds = config.watchTimeoutSeconds();
    this.api = api;
    this.sync = sync;
    this.log = log;
    this.backoff = new Backoff(random);
  }

  @Override
  public void run() {
    try {
      loop();
    } catch (InterruptedException e) {
      // stopped
    }
  }

  private void loop() throws InterruptedException {
    SecretValue current = initial;
    SecretValue pending = null;
    long delayMillis = 0;
    boolean longPoll = false;
    long attemptStarted = 0;
    if (initial != null) {
      if (refresh.mode() == Refresh.Mode.NONE) {
        return;
      }
      delayMillis = refresh.mode() == Refresh.Mode.INTERVAL ? refresh.interval().toMillis() : 0;
    }
    while (!Thread.currentThread().isInterrupted()) {
      if (delayMillis > 0) {
        Thread.sleep(delayMillis);
      }
      delayMillis = 0;
      try {
        if (pending != null) {
          deliver(pending);
          pending = null;
          backoff.reset();
          if (refresh.mode() == Refresh.Mode.NONE) {
            return;
          }
          delayMillis = refresh.mode() == Refresh.Mode.INTERVAL ? refresh.interval().toMillis() : 0;
          continue;
        }
        longPoll = current != null && refresh.mode() != Refresh.Mode.INTERVAL;
        attemptStarted = System.nanoTime();
        SecretValue next =
            longPoll
                ? api.waitForChange(ref, current.versionId(), watchTimeoutSeconds)
                : api.fetch(ref);
        backoff.reset();
        if (next != null && (current == null || !next.versionId().equals(current.versionId()))) {
          current = next;
          pending = next;
        } else if (refresh.mode() == Refresh.Mode.INTERVAL) {
          delayMillis = refresh.interval().toMillis();
        } else if (next != null) {
          delayMillis = SAME_VERSION_PAUSE_MILLIS;
        }
      } catch (IOException e) {
        if (pending == null
            && endedAnAcceptedWait(
                e, longPoll, Duration.ofNanos(System.nanoTime() - attemptStarted))) {
          backoff.reset();
        }
        long wait =
            backoff
                .next(e instanceof ApiException apiError ? apiError.retryAfter() : null)
                .toMillis();
        log.warn(
            (pending != null ? "writing files for secret " : "fetching secret ")
                + ref
                + " failed: "
                + describe(e)
                + "; files kept, retrying in "
                + wait
                + " ms");
        delayMillis = Math.max(wait, 1);
      }
    }
  }

  /**
   * Whether a failure ended a long-poll the API had accepted and held for {@link #HELD} or more:
   * the API was reachable and took the token when the wait began, so the failures before it are not
   * consecutive with this one and the backoff starts over. A wait held until a timeout, or ended by
   * a 5xx or 429, says the API is struggling and keeps the backoff growing.
   *
   * <p>Without this, a watcher that backed off during an outage kept that count through the next
   * held wait, and the 401 that ended it when its token was revoked (or a restart of the API that
   * closed it) waited up to half a minute before the next try.
   */
  static boolean endedAnAcceptedWait(IOException e, boolean longPoll, Duration elapsed) {
    if (!longPoll || elapsed.compareTo(HELD) < 0 || e instanceof SocketTimeoutException) {
      return false;
    }
    return !(e instanceof ApiException api && (api.status() >= 500 || api.status() == 429));
  }

  private void deliver(SecretValue value) throws IOException {
    try {
      sync.offer(ref, value);
    } catch (Renderer.RenderException e) {
      // Retrying cannot help; the next version of the secret might render.
      log.error(e.getMessage() + "; version " + value.versionId() + " not written, files kept");
    }
  }

  static String describe(IOException e) {
    String message = e.getMessage();
    // The JDK's connection errors often carry no message; the class name says enough.
    return message == null || message.isBlank()
        ? e.getClass().getSimpleName()
        : e.getClass().getSimpleName() + ": " + message;
  }
}
