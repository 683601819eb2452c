package io.keywarden.operator.kms;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.failure.KmsException;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.commons.lang3.concurrent.BasicThreadFactory;
import org.jboss.logging.Logger;

/**
 * Checks every configured key on a fixed interval ({@code keywarden.kms.health-interval}) and
 * remembers the outcome. Readiness, the {@code kms} health group and the Degraded condition all
 * read this memory, so neither a probe nor a reconciliation waits on a hung KMS, and a KMS is asked
 * once per key and interval however many secrets use the key.
 */
@ApplicationScoped
public class KmsHealth {

  private static final Logger LOG = Logger.getLogger(KmsHealth.class);

  /** A throttled check says nothing about the key: the previous outcome stands. */
  private static final String INCONCLUSIVE = ManagedSecretConditions.KMS_THROTTLED;

  /**
   * Problems of one key rather than of the provider: the provider answered, so it is reachable.
   * They degrade the secrets using the key, never the readiness of the replica.
   */
  private static final Set<String> KEY_PROBLEMS =
      Set.of(
          ManagedSecretConditions.KMS_KEY_NOT_FOUND,
          ManagedSecretConditions.KMS_KEY_DISABLED,
          ManagedSecretConditions.KMS_KEY_UNUSABLE,
          ManagedSecretConditions.KMS_ACCESS_DENIED,
          ManagedSecretConditions.KEY_VERSION_NOT_FOUND,
          ManagedSecretConditions.INVALID_KEY_ID);

  /**
   * The last outcome for one key alias.
   *
   * @param problem empty when the key served the last check
   * @param everReachable whether the provider answered for this key since start (see {@link
   *     #reachable()})
   */
  public record KeyHealth(
      String alias,
      String provider,
      Optional<KmsException> problem,
      Instant since,
      boolean everReachable) {
    public boolean healthy() {
      return problem.isEmpty();
    }

    /** The provider answered the last check, if only to refuse this key. */
    public boolean reachable() {
      return problem.isEmpty() || KEY_PROBLEMS.contains(problem.get().reason());
    }

    public String describe() {
      return problem
          .map(p -> p.reason() + " since " + since + ": " + p.getMessage())
          .orElse("ok since " + since);
    }
  }

  private final KmsKeys keys;
  private final KeywardenConfig config;
  private final Map<String, KeyHealth> health = new ConcurrentHashMap<>();
  private final List<Consumer<Set<String>>> listeners = new CopyOnWriteArrayList<>();
  private ScheduledExecutorService scheduler;

  public KmsHealth(KmsKeys keys, KeywardenConfig config) {
    this.keys = keys;
    this.config = config;
  }

  void start(@Observes StartupEvent event) {
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            BasicThreadFactory.builder()
                .namingPattern("keywarden-kms-health")
                .daemon(true)
                .build());
    long interval = config.kms().healthInterval().toMillis();
    scheduler.scheduleWithFixedDelay(this::checkAllLogged, 0, interval, TimeUnit.MILLISECONDS);
  }

  void stop(@Observes ShutdownEvent event) {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }

  /** Called with the aliases whose health changed, after each round that changed any. */
  public void onChange(Consumer<Set<String>> listener) {
    listeners.add(listener);
  }

  /** Every configured key, by provider type; a key not yet checked is absent. */
  public Map<String, List<KeyHealth>> byProvider() {
    Map<String, List<KeyHealth>> result = new TreeMap<>();
    keys.all()
        .values()
        .forEach(
            k -> result.computeIfAbsent(k.provider().type(), t -> new java.util.ArrayList<>()));
    health.values().stream()
        .sorted(java.util.Comparator.comparing(KeyHealth::alias))
        .forEach(h -> result.get(h.provider()).add(h));
    return result;
  }

  /** Aliases per provider type, checked or not. */
  public Map<String, List<String>> aliasesByProvider() {
    Map<String, List<String>> result = new TreeMap<>();
    keys.all()
        .values()
        .forEach(
            k ->
                result
                    .computeIfAbsent(k.provider().type(), t -> new java.util.ArrayList<>())
                    .add(k.alias()));
    return result;
  }

  /**
   * Throws the problem of the first of these keys that failed its last check. Keys not checked yet
   * and unknown aliases pass: the operation itself will tell.
   */
  public void requireHealthy(Collection<String> aliases) {
    for (String alias : new java.util.TreeSet<>(aliases)) {
      KeyHealth key = health.get(alias);
      if (key != null && key.problem().isPresent()) {
        KmsException problem = key.problem().get();
        throw new KmsException(
            problem.reason(),
            "KMS key '"
                + alias
                + "' ("
                + key.provider()
                + ") fails its health check"
                + " since "
                + key.since()
                + ": "
                + problem.getMessage()
                + "; values whose data key is cached are still served,"
                + " others answer 503 until it recovers",
            problem);
      }
    }
  }

  // A periodic task that throws is never run again; a failed round must not end the checks.
  private void checkAllLogged() {
    try {
      checkAll();
    } catch (RuntimeException e) {
      LOG.errorf(e, "a round of KMS health checks failed; the next runs as planned");
    }
  }

  /** One round over all keys; public for tests and for an immediate re-check. */
  public synchronized void checkAll() {
    Set<String> changed = new java.util.TreeSet<>();
    for (KmsKey key : keys.all().values()) {
      try {
        if (check(key)) {
          changed.add(key.alias());
        }
      } catch (RuntimeException e) {
        LOG.errorf(e, "health check of KMS key %s failed unexpectedly", key.alias());
      }
    }
    if (!changed.isEmpty()) {
      for (Consumer<Set<String>> listener : listeners) {
        // This runs on the scheduler's only thread: an exception escaping here would cancel every
        // later check silently (a listener called before the controllers' event sources start
        // throws), and no key would ever be seen to heal.
        try {
          listener.accept(Set.copyOf(changed));
        } catch (RuntimeException e) {
          LOG.warnf(e, "a listener of KMS health changes failed for %s", changed);
        }
      }
    }
  }

  private boolean check(KmsKey key) {
    Optional<KmsException> problem;
    try {
      key.provider().checkKey(key.providerKeyId());
      problem = Optional.empty();
    } catch (KmsException e) {
      problem = Optional.of(e);
    }
    KeyHealth before = health.get(key.alias());
    if (problem.isPresent() && INCONCLUSIVE.equals(problem.get().reason()) && before != null) {
      return false;
    }
    boolean same =
        before != null
            && before.healthy() == problem.isEmpty()
            && (problem.isEmpty()
                || problem.get().reason().equals(before.problem().get().reason()));
    if (same) {
      return false;
    }
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    KeyHealth after = new KeyHealth(key.alias(), key.provider().type(), problem, now, false);
    after =
        new KeyHealth(
            after.alias(),
            after.provider(),
            problem,
            now,
            after.reachable() || (before != null && before.everReachable()));
    health.put(key.alias(), after);
    if (problem.isPresent()) {
      LOG.warnf("KMS key %s (%s): %s", key.alias(), key.provider().type(), after.describe());
    } else if (before != null) {
      LOG.infof("KMS key %s (%s) serves again", key.alias(), key.provider().type());
    }
    return true;
  }
}
