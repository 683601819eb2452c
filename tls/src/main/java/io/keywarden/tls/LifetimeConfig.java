package io.keywarden.tls;

import io.smallrye.config.WithDefault;
import java.time.Duration;

/**
 * The lifetimes of self-issued certificates as configuration properties ({@code validity}, {@code
 * ca-validity}, {@code renew-before}, {@code ca-overlap}): the TLS group of the operator's API and
 * of the injector's webhook both extend it, so both have the same names and defaults. {@link
 * RenewalSettings#of(String, LifetimeConfig)} checks them.
 */
public interface LifetimeConfig {

  /** Lifetime of a serving certificate. */
  @WithDefault("365d")
  Duration validity();

  /** Lifetime of the CA that signs the serving certificates. */
  @WithDefault("1825d")
  Duration caValidity();

  /** A serving certificate is renewed this long before it expires. */
  @WithDefault("30d")
  Duration renewBefore();

  /** How long a new CA is published beside the current one before it signs. */
  @WithDefault("90d")
  Duration caOverlap();
}
