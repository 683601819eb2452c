package io.keywarden.operator.access.aws;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.AesGcm;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The session keys every replica seals and opens AWS session tokens with: entries {@code key.<N>}
 * (32 random bytes, base64) of one Secret in the operator namespace, created with {@code key.1} on
 * first use. The highest N seals new tokens; every key present opens tokens, so rotation is: add
 * {@code key.<N+1>} (replicas switch within {@code keys-reload-interval}), then remove the old key
 * once the longest credential lifetime has passed. Key material is never logged.
 */
@ApplicationScoped
public class SessionKeyStore {

  private static final Logger LOG = Logger.getLogger(SessionKeyStore.class);
  private static final Pattern ENTRY = Pattern.compile("^key\\.([1-9][0-9]{0,8})$");

  /**
   * An unknown key id re-reads the Secret at most this often, so garbage tokens cannot flood it.
   */
  private static final Duration MISS_RELOAD_INTERVAL = Duration.ofSeconds(1);

  private record Loaded(TreeMap<Integer, SessionKey> keys, Instant at) {}

  private final KubernetesClient client;
  private final String namespace;
  private final String secretName;
  private final Duration reloadInterval;
  private final Clock clock;
  private volatile Loaded loaded;

  @Inject
  public SessionKeyStore(KubernetesClient client, KeywardenConfig config) {
    this(
        client,
        config.namespace(),
        config.api().awsCredentials().keysSecretName(),
        config.api().awsCredentials().keysReloadInterval(),
        Clock.systemUTC());
  }

  SessionKeyStore(
      KubernetesClient client,
      String namespace,
      String secretName,
      Duration reloadInterval,
      Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.secretName = secretName;
    this.reloadInterval = reloadInterval;
    this.clock = clock;
  }

  /** The key new tokens are sealed with: the highest id. */
  public SessionKey primary() {
    Loaded current = current(reloadInterval);
    if (current.keys().isEmpty()) {
      current = create();
    }
    return current.keys().lastEntry().getValue();
  }

  /** The key with this id, or null when no replica ever had it (or it was removed). */
  public SessionKey byId(int id) {
    SessionKey key = current(reloadInterval).keys().get(id);
    if (key == null) {
      // Another replica may have added it since we read the Secret.
      key = current(MISS_RELOAD_INTERVAL).keys().get(id);
    }
    return key;
  }

  private Loaded current(Duration maxAge) {
    Loaded current = loaded;
    if (current == null || current.at().plus(maxAge).isBefore(clock.instant())) {
      return reload();
    }
    return current;
  }

  private synchronized Loaded reload() {
    Secret secret = client.secrets().inNamespace(namespace).withName(secretName).get();
    Loaded next = new Loaded(parse(secret), clock.instant());
    loaded = next;
    return next;
  }

  private TreeMap<Integer, SessionKey> parse(Secret secret) {
    TreeMap<Integer, SessionKey> keys = new TreeMap<>();
    Map<String, String> data = secret == null ? null : secret.getData();
    if (data == null) {
      return keys;
    }
    data.forEach(
        (name, value) -> {
          Matcher m = ENTRY.matcher(name);
          if (!m.matches()) {
            return;
          }
          byte[] material = Base64.getDecoder().decode(value.strip());
          if (material.length != AesGcm.KEY_BYTES) {
            throw new IllegalStateException(
                "AWS session key "
                    + name
                    + " in Secret "
                    + namespace
                    + "/"
                    + secretName
                    + " is not 32 bytes");
          }
          int id = Integer.parseInt(m.group(1));
          keys.put(id, SessionKey.derive(id, material));
        });
    return keys;
  }

  /** Creates the Secret with key.1, or takes the one another replica created meanwhile. */
  private synchronized Loaded create() {
    Loaded current = reload();
    if (!current.keys().isEmpty()) {
      return current;
    }
    String encoded = Base64.getEncoder().encodeToString(AesGcm.newKey());
    try {
      if (client.secrets().inNamespace(namespace).withName(secretName).get() == null) {
        client
            .secrets()
            .inNamespace(namespace)
            .resource(
                new SecretBuilder()
                    .withNewMetadata()
                    .withName(secretName)
                    .addToLabels("app.kubernetes.io/part-of", "keywarden")
                    .addToLabels("app.kubernetes.io/component", "aws-session-keys")
                    .endMetadata()
                    .addToData("key.1", encoded)
                    .build())
            .create();
        LOG.infof("created AWS session key key.1 in Secret %s/%s", namespace, secretName);
      } else {
        // A Secret without keys (emptied by hand): add key.1 rather than overwrite anything.
        client
            .secrets()
            .inNamespace(namespace)
            .withName(secretName)
            .edit(
                s -> {
                  if (s.getData() == null) {
                    s.setData(new java.util.HashMap<>());
                  }
                  s.getData().putIfAbsent("key.1", encoded);
                  return s;
                });
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
    current = reload();
    if (current.keys().isEmpty()) {
      throw new IllegalStateException(
          "Secret " + namespace + "/" + secretName + " holds no AWS session key");
    }
    return current;
  }
}
