package io.keywarden.tls;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Keeps a server's {@link RotatingKeyManager} on the current certificate of a {@link
 * CertificateSource} while the process runs: it asks the source again at the source's renewal point
 * or after {@code interval}, whichever comes first, and swaps the key manager when the certificate
 * changed, so new handshakes get the new certificate with no restart and no failed request. A
 * failed check is logged and retried soon; the last good certificate keeps serving meanwhile.
 */
public final class CertificateRefresher implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(CertificateRefresher.class);

  /** Never check more often than this, even when a source keeps answering "due now". */
  static final Duration MINIMUM_DELAY = Duration.ofSeconds(1);

  /** After a failed check; shorter than any sensible renew-before. */
  static final Duration RETRY_DELAY = Duration.ofSeconds(10);

  private final String label;
  private final CertificateSource source;
  private final Duration interval;
  private final Clock clock;
  private final RotatingKeyManager keyManager = new RotatingKeyManager();
  private volatile ServingCertificate current;
  private ScheduledExecutorService scheduler;

  /**
   * @param label what the certificate is for, in log lines and the thread name ("webhook", "api")
   */
  public CertificateRefresher(
      String label, CertificateSource source, Duration interval, Clock clock) {
    this.label = label;
    this.source = source;
    this.interval = interval;
    this.clock = clock;
  }

  /** The key manager to give the HTTPS server; it serves nothing before the first {@link #load}. */
  public RotatingKeyManager keyManager() {
    return keyManager;
  }

  /** The certificate served now (null before the first load). */
  public ServingCertificate current() {
    return current;
  }

  /**
   * Loads from the source and serves the result; throws when the source fails. Called once before
   * the server listens, then by the checks.
   */
  public synchronized ServingCertificate load() {
    ServingCertificate before = current;
    ServingCertificate loaded = source.load();
    if (before == null
        || !before.leaf().equals(loaded.leaf())
        || !before.key().equals(loaded.key())) {
      keyManager.use(loaded.chain(), loaded.key());
      if (before != null) {
        LOG.infof(
            "%s serving certificate swapped: serial %s, valid until %s",
            label,
            loaded.leaf().getSerialNumber().toString(16),
            loaded.leaf().getNotAfter().toInstant());
      }
    }
    current = loaded;
    return loaded;
  }

  /** Starts the periodic checks; the first one comes after the delay the last load asked for. */
  public synchronized void start() {
    if (scheduler != null) {
      return;
    }
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "keywarden-" + label + "-tls");
              thread.setDaemon(true);
              return thread;
            });
    schedule(current == null ? Duration.ZERO : delayAfter(current));
  }

  @Override
  public synchronized void close() {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }

  private void check() {
    Duration next;
    try {
      next = delayAfter(load());
    } catch (RuntimeException e) {
      next = interval.compareTo(RETRY_DELAY) < 0 ? interval : RETRY_DELAY;
      LOG.errorf(
          e, "%s certificate check failed; serving the last one, retrying in %s", label, next);
    }
    schedule(next);
  }

  private void schedule(Duration delay) {
    synchronized (this) {
      if (scheduler != null && !scheduler.isShutdown()) {
        scheduler.schedule(this::check, delay.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
  }

  /** The interval, or less when the certificate's renewal point comes sooner. */
  Duration delayAfter(ServingCertificate certificate) {
    Duration delay = interval;
    Optional<Instant> due = certificate.checkBy();
    if (due.isPresent()) {
      // A little after the point, so the check finds it due (clocks round to milliseconds).
      Duration untilDue = Duration.between(clock.instant(), due.get()).plusMillis(50);
      if (untilDue.compareTo(delay) < 0) {
        delay = untilDue;
      }
    }
    return delay.compareTo(MINIMUM_DELAY) < 0 ? MINIMUM_DELAY : delay;
  }
}
