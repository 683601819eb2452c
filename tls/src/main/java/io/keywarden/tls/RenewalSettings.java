package io.keywarden.tls;

import java.time.Duration;
import java.util.Objects;

/**
 * How long self-issued certificates live and when they are replaced, checked once at start-up.
 *
 * @param validity lifetime of a serving certificate
 * @param caValidity lifetime of a CA
 * @param renewBefore a serving certificate is replaced this long before its notAfter
 * @param caOverlap a new CA is published beside the current one this long before it signs the first
 *     serving certificate, so clients that read the CA bundle only at start (agents) learn it
 *     before they meet it
 */
public record RenewalSettings(
    Duration validity, Duration caValidity, Duration renewBefore, Duration caOverlap) {

  public static final Duration DEFAULT_VALIDITY = Duration.ofDays(365);
  public static final Duration DEFAULT_CA_VALIDITY = Duration.ofDays(5 * 365);
  public static final Duration DEFAULT_RENEW_BEFORE = Duration.ofDays(30);
  public static final Duration DEFAULT_CA_OVERLAP = Duration.ofDays(90);

  public static final RenewalSettings DEFAULTS =
      new RenewalSettings(
          DEFAULT_VALIDITY, DEFAULT_CA_VALIDITY, DEFAULT_RENEW_BEFORE, DEFAULT_CA_OVERLAP);

  public RenewalSettings {
    Objects.requireNonNull(validity, "validity");
    Objects.requireNonNull(caValidity, "caValidity");
    Objects.requireNonNull(renewBefore, "renewBefore");
    Objects.requireNonNull(caOverlap, "caOverlap");
  }

  /** Validated settings from configuration whose properties are under {@code prefix}. */
  public static RenewalSettings of(String prefix, LifetimeConfig config) {
    return of(
        prefix, config.validity(), config.caValidity(), config.renewBefore(), config.caOverlap());
  }

  /**
   * Validated settings; {@code prefix} is the configuration prefix (e.g. {@code keywarden.api.tls})
   * so an error names the property to fix.
   */
  public static RenewalSettings of(
      String prefix,
      Duration validity,
      Duration caValidity,
      Duration renewBefore,
      Duration caOverlap) {
    positive(prefix + ".validity", validity);
    positive(prefix + ".ca-validity", caValidity);
    positive(prefix + ".renew-before", renewBefore);
    if (caOverlap.isNegative()) {
      throw new IllegalArgumentException(prefix + ".ca-overlap must not be negative: " + caOverlap);
    }
    if (renewBefore.compareTo(validity) >= 0) {
      throw new IllegalArgumentException(
          prefix
              + ".renew-before ("
              + renewBefore
              + ") must be shorter than "
              + prefix
              + ".validity ("
              + validity
              + "), or every check would renew");
    }
    // A successor is made ca-overlap before it signs and must itself sign for ca-overlap before
    // its own successor is due, or that one would be published for less than ca-overlap.
    Duration caNeeds = validity.plus(renewBefore).plus(caOverlap.multipliedBy(2));
    if (caValidity.compareTo(caNeeds) <= 0) {
      throw new IllegalArgumentException(
          prefix
              + ".ca-validity ("
              + caValidity
              + ") must be longer than validity + renew-before + 2 × ca-overlap ("
              + caNeeds
              + "), so that every CA is published for ca-overlap before it signs");
    }
    return new RenewalSettings(validity, caValidity, renewBefore, caOverlap);
  }

  private static void positive(String name, Duration value) {
    if (value == null || value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(name + " must be a positive duration: " + value);
    }
  }
}
