package io.keywarden.operator.rotation;

import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Test-only: with KEYWARDEN_FAULT_PAUSE_AFTER=<step> the rotation stops dead right after that step
 * (persisted; for a handler with nothing downstream, done, with only the reservation persisted
 * until the promotion) and logs a marker, so a crash test can SIGKILL the process at exactly that
 * point. Never set it in production.
 */
final class FaultInjection {

  private static final Logger LOG = Logger.getLogger(FaultInjection.class);
  private static final Optional<String> PAUSE_AFTER =
      Optional.ofNullable(System.getenv("KEYWARDEN_FAULT_PAUSE_AFTER"));

  private FaultInjection() {}

  static void after(String step) {
    if (PAUSE_AFTER.isPresent() && PAUSE_AFTER.get().equals(step)) {
      LOG.warnf("FAULT INJECTION: paused after %s; waiting to be killed", step);
      try {
        Thread.sleep(Long.MAX_VALUE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
