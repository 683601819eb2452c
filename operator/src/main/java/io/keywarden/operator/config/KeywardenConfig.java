package io.keywarden.operator.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** Operator configuration (application.properties, env KEYWARDEN_*). Defaults documented in docs/configuration.md. */
@ConfigMapping(prefix = "keywarden")
public interface KeywardenConfig {

  /** The operator's own namespace: ciphertext and master keys live here, out of tenants' reach. */
  String namespace();

  Kms kms();

  interface Kms {
    /** The alias used when a ManagedSecret leaves spec.kmsKeyId empty. */
    @WithDefault("default")
    String defaultKeyId();

    /** Alias to provider and key. */
    Map<String, Key> keys();

    /** How long an unwrapped data key stays in memory. Zero disables the cache. */
    @WithDefault("5m")
    Duration dekCacheTtl();

    @WithDefault("10000")
    int dekCacheSize();

    Local local();
  }

  interface Key {
    /** local, aws-kms or pkcs11. */
    String provider();

    /** The provider's key id; defaults to the alias. */
    Optional<String> keyId();
  }

  interface Local {
    /** Secret in the operator namespace that holds the local master keys; created on first start. */
    @WithDefault("keywarden-master-keys")
    String secretName();

    /** A mounted file with the master keys (properties: name.vN=base64); when set, the Secret is not used. */
    Optional<String> keyFile();
  }
}
