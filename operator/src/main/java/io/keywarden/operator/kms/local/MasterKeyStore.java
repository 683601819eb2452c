package io.keywarden.operator.kms.local;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.failure.KmsException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Versioned AES-256 master keys of the local provider. They live in a Secret of the operator
 * namespace (created on first use, shared by all replicas) or in a mounted file. Entries are named
 * {@code <key>.v<N>}; the highest N is the primary version. Key material is never logged.
 */
@ApplicationScoped
public class MasterKeyStore {

  private static final Logger LOG = Logger.getLogger(MasterKeyStore.class);
  private static final Pattern ENTRY =
      Pattern.compile("^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\\.v([0-9]{1,9})$");

  public record MasterKey(String keyId, int version, byte[] material) {
    @Override
    public String toString() {
      return "MasterKey[" + keyId + ".v" + version + ", redacted]";
    }
  }

  private final KubernetesClient client;
  private final KeywardenConfig config;
  private volatile Map<String, TreeMap<Integer, byte[]>> keys;

  public MasterKeyStore(KubernetesClient client, KeywardenConfig config) {
    this.client = client;
    this.config = config;
  }

  public MasterKey primary(String keyId) {
    TreeMap<Integer, byte[]> versions = loaded().get(keyId);
    if (versions == null) {
      versions = createKey(keyId);
    }
    var last = versions.lastEntry();
    return new MasterKey(keyId, last.getKey(), last.getValue());
  }

  public MasterKey version(String keyId, int version) {
    byte[] material = versionOrNull(loaded(), keyId, version);
    if (material == null) {
      // Another replica may have added it since we loaded.
      material = versionOrNull(reload(), keyId, version);
    }
    if (material == null) {
      throw new KmsException(
          ManagedSecretConditions.KEY_VERSION_NOT_FOUND,
          "local master key " + keyId + ".v" + version + " does not exist");
    }
    return new MasterKey(keyId, version, material);
  }

  private static byte[] versionOrNull(
      Map<String, TreeMap<Integer, byte[]>> all, String keyId, int version) {
    TreeMap<Integer, byte[]> versions = all.get(keyId);
    return versions == null ? null : versions.get(version);
  }

  /** Adds a new primary version and returns its number. */
  public synchronized int addVersion(String keyId) {
    TreeMap<Integer, byte[]> versions = reload().get(keyId);
    int next = versions == null ? 1 : versions.lastKey() + 1;
    writeEntry(keyId, next);
    reload();
    return next;
  }

  /** Deletes versions below the primary that are not in use; the primary is always kept. */
  public synchronized void retire(String keyId, java.util.Set<Integer> inUse) {
    if (config.kms().local().keyFile().isPresent()) {
      return;
    }
    TreeMap<Integer, byte[]> versions = reload().get(keyId);
    if (versions == null || versions.size() < 2) {
      return;
    }
    int primary = versions.lastKey();
    var retired =
        versions.keySet().stream().filter(v -> v < primary && !inUse.contains(v)).toList();
    if (retired.isEmpty()) {
      return;
    }
    client
        .secrets()
        .inNamespace(config.namespace())
        .withName(config.kms().local().secretName())
        .edit(
            secret -> {
              retired.forEach(v -> secret.getData().remove(keyId + ".v" + v));
              return secret;
            });
    LOG.infof(
        "retired local master key versions %s of %s: no stored envelope uses them", retired, keyId);
    reload();
  }

  public void load() {
    loaded();
  }

  private Map<String, TreeMap<Integer, byte[]>> loaded() {
    Map<String, TreeMap<Integer, byte[]>> current = keys;
    return current != null ? current : reload();
  }

  private synchronized Map<String, TreeMap<Integer, byte[]>> reload() {
    Map<String, String> entries =
        config.kms().local().keyFile().map(MasterKeyStore::readFile).orElseGet(this::readSecret);
    Map<String, TreeMap<Integer, byte[]>> parsed = new HashMap<>();
    entries.forEach(
        (name, value) -> {
          Matcher m = ENTRY.matcher(name);
          if (!m.matches()) {
            return;
          }
          byte[] material = Base64.getDecoder().decode(value.strip());
          if (material.length != AesGcm.KEY_BYTES) {
            throw new KmsException(
                ManagedSecretConditions.INVALID_MASTER_KEY,
                "local master key " + name + " is not 32 bytes");
          }
          parsed
              .computeIfAbsent(m.group(1), k -> new TreeMap<>())
              .put(Integer.parseInt(m.group(3)), material);
        });
    keys = parsed;
    return parsed;
  }

  private synchronized TreeMap<Integer, byte[]> createKey(String keyId) {
    // Threads that queued here behind the one that created the key find it without another read:
    // a burst of new secrets on a fresh install would otherwise read the Secret once per thread,
    // one
    // after the other, while every reconciliation waits.
    TreeMap<Integer, byte[]> created = keys == null ? null : keys.get(keyId);
    if (created != null) {
      return created;
    }
    TreeMap<Integer, byte[]> existing = reload().get(keyId);
    if (existing != null) {
      return existing;
    }
    writeEntry(keyId, 1);
    return reload().get(keyId);
  }

  private void writeEntry(String keyId, int version) {
    if (config.kms().local().keyFile().isPresent()) {
      throw new KmsException(
          ManagedSecretConditions.MASTER_KEY_READ_ONLY,
          "local master key "
              + keyId
              + ".v"
              + version
              + " is missing and keys come from the read-only file keywarden.kms.local.key-file; add it there");
    }
    if (!ENTRY.matcher(keyId + ".v1").matches()) {
      throw new KmsException(
          ManagedSecretConditions.INVALID_KEY_ID,
          "local key id '" + keyId + "' must be a DNS label");
    }
    String entry = keyId + ".v" + version;
    String encoded = Base64.getEncoder().encodeToString(AesGcm.newKey());
    var secrets = client.secrets().inNamespace(config.namespace());
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        Secret secret = secrets.withName(config.kms().local().secretName()).get();
        if (secret == null) {
          secrets
              .resource(
                  new SecretBuilder()
                      .withNewMetadata()
                      .withName(config.kms().local().secretName())
                      .addToLabels("app.kubernetes.io/part-of", "keywarden")
                      .addToLabels("keywarden.io/master-keys", "local")
                      .endMetadata()
                      .withType("keywarden.io/master-keys")
                      .addToData(entry, encoded)
                      .build())
              .create();
        } else if (secret.getData() != null && secret.getData().containsKey(entry)) {
          return;
        } else {
          secret.getData().put(entry, encoded);
          secrets.resource(secret).update();
        }
        LOG.infof(
            "created local master key %s in Secret %s/%s",
            entry, config.namespace(), config.kms().local().secretName());
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw new KmsException(
              ManagedSecretConditions.KMS_UNAVAILABLE,
              "cannot store local master key " + entry + ": " + e.getStatus().getMessage(),
              e);
        }
      }
    }
    throw new KmsException(
        ManagedSecretConditions.KMS_UNAVAILABLE,
        "cannot store local master key " + entry + ": too many concurrent updates");
  }

  private Map<String, String> readSecret() {
    try {
      Secret secret =
          client
              .secrets()
              .inNamespace(config.namespace())
              .withName(config.kms().local().secretName())
              .get();
      return secret == null || secret.getData() == null ? Map.of() : secret.getData();
    } catch (KubernetesClientException e) {
      throw new KmsException(
          ManagedSecretConditions.KMS_UNAVAILABLE,
          "cannot read local master keys from Secret "
              + config.namespace()
              + "/"
              + config.kms().local().secretName()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static Map<String, String> readFile(String file) {
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(Path.of(file))) {
      properties.load(reader);
    } catch (IOException e) {
      throw new KmsException(
          ManagedSecretConditions.KMS_UNAVAILABLE,
          "cannot read keywarden.kms.local.key-file " + file + ": " + e.getMessage(),
          e);
    }
    Map<String, String> map = new HashMap<>();
    properties.forEach((k, v) -> map.put(k.toString(), v.toString()));
    return map;
  }
}
