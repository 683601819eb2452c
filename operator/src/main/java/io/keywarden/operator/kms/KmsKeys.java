package io.keywarden.operator.kms;

import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.failure.UnknownKmsKeyException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Maps the kmsKeyId aliases that ManagedSecrets name to a provider and key. The controllers know
 * only this registry and the {@link KmsProvider} interface.
 */
@ApplicationScoped
public class KmsKeys {

  private final Map<String, KmsKey> keys;
  private final String defaultAlias;

  @Inject
  public KmsKeys(KeywardenConfig config, Instance<KmsProvider> providers) {
    this(config, (Iterable<KmsProvider>) providers);
  }

  /** Outside the container (benchmarks): the providers given. */
  public KmsKeys(KeywardenConfig config, Iterable<KmsProvider> providers) {
    Map<String, KmsProvider> byType = new HashMap<>();
    providers.forEach(p -> byType.put(p.type(), p));
    Map<String, KmsKey> resolved = new TreeMap<>();
    config
        .kms()
        .keys()
        .forEach(
            (alias, key) -> {
              KmsProvider provider = byType.get(key.provider());
              if (provider == null) {
                throw new IllegalStateException(
                    "keywarden.kms.keys."
                        + alias
                        + ".provider: unknown provider '"
                        + key.provider()
                        + "'; available: "
                        + String.join(", ", new TreeMap<>(byType).keySet()));
              }
              resolved.put(alias, new KmsKey(alias, provider, key.keyId().orElse(alias)));
            });
    this.keys = Map.copyOf(resolved);
    this.defaultAlias = config.kms().defaultKeyId();
    if (!keys.containsKey(defaultAlias)) {
      throw new IllegalStateException(
          "keywarden.kms.default-key-id: '"
              + defaultAlias
              + "' is not one of keywarden.kms.keys "
              + keys.keySet());
    }
  }

  /** The key for a spec.kmsKeyId; empty means the default key. */
  public KmsKey resolve(String alias) {
    String effective = Optional.ofNullable(alias).filter(a -> !a.isBlank()).orElse(defaultAlias);
    KmsKey key = keys.get(effective);
    if (key == null) {
      throw new UnknownKmsKeyException(effective, keys.keySet());
    }
    return key;
  }

  public Map<String, KmsKey> all() {
    return keys;
  }
}
