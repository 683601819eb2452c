package io.keywarden.operator.rotation;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.RotationProgress;
import io.keywarden.api.v1alpha1.RotationProgress.Step;
import io.keywarden.api.v1alpha1.RotationStrategy;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.KmsException;
import io.keywarden.operator.failure.RotationFailedException;
import io.keywarden.operator.kube.EventRecorder;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.operator.versions.SecretVersions;
import io.keywarden.operator.versions.VersionLedger;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * AWS Secrets Manager's four rotation steps, each persisted in the ManagedSecret status before the
 * next begins, so a rotation resumes after a crash at any point: createSecret (a PENDING version) →
 * setSecret → testSecret → finishSecret (PENDING becomes CURRENT, CURRENT becomes PREVIOUS). A
 * failed set or test removes PENDING and leaves CURRENT as it was. The pending version id is
 * reserved in the status before its ciphertext is written, so a crash never orphans ciphertext.
 */
@ApplicationScoped
public class RotationEngine {

  private static final Logger LOG = Logger.getLogger(RotationEngine.class);
  private static final Duration FIRST_RETRY = Duration.ofSeconds(30);
  private static final Duration MAX_RETRY = Duration.ofHours(1);

  /** The trigger of a rotation picked up half-way, after a restart. */
  public static final String RESUMED = "resumed";

  /** How a run ended, for the schedule's status and history. */
  public record Outcome(
      boolean succeeded, String versionId, String reason, String message, Instant startedAt) {}

  private final KubernetesClient client;
  private final SecretVersions versions;
  private final VersionLedger ledger;
  private final CiphertextStore store;
  private final EventRecorder events;
  private final EncryptionKeyRotation keyRotation;
  private final MeterRegistry registry;
  private final Map<RotationStrategy.Type, RotationHandler> handlers =
      new EnumMap<>(RotationStrategy.Type.class);
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  public RotationEngine(
      KubernetesClient client,
      SecretVersions versions,
      VersionLedger ledger,
      CiphertextStore store,
      EventRecorder events,
      EncryptionKeyRotation keyRotation,
      MeterRegistry registry,
      Instance<RotationHandler> all) {
    this.client = client;
    this.versions = versions;
    this.ledger = ledger;
    this.store = store;
    this.events = events;
    this.keyRotation = keyRotation;
    this.registry = registry;
    all.forEach(h -> handlers.put(h.type(), h));
  }

  /**
   * Starts a rotation, or resumes the one in progress, and drives it to its end. Returns empty when
   * another thread of this process is already rotating the secret.
   */
  public Optional<Outcome> rotate(
      ManagedSecret secret, RotationStrategy strategy, String scheduleName, String trigger) {
    return rotate(
        secret,
        strategy,
        scheduleName,
        trigger,
        null,
        started -> CompletableFuture.completedFuture(null));
  }

  /**
   * As above; {@code onStarted} runs once a new rotation is persisted in status (not for a resumed
   * one), when the request that caused it can be forgotten without being lost. It may forget it
   * asynchronously, beside the new value's encryption and storage: the rotation waits for the
   * returned stage before it finishes, so that no crash can leave a finished rotation whose request
   * is still there to start another one. {@code versionId} (may be null: a random UUID) is the id
   * of a new rotation's new version.
   */
  public Optional<Outcome> rotate(
      ManagedSecret secret,
      RotationStrategy strategy,
      String scheduleName,
      String trigger,
      String versionId,
      Function<ManagedSecret, CompletionStage<?>> onStarted) {
    ReentrantLock lock =
        locks.computeIfAbsent(secret.getMetadata().getUid(), k -> new ReentrantLock());
    if (!lock.tryLock()) {
      return Optional.empty();
    }
    try {
      ManagedSecret latest = fresh(secret);
      if (RESUMED.equals(trigger) && latest.getStatus().getRotation() == null) {
        // Seen in progress through a stale cache, but already finished: nothing to resume.
        return Optional.empty();
      }
      return Optional.of(run(latest, strategy, scheduleName, trigger, versionId, onStarted));
    } finally {
      lock.unlock();
    }
  }

  private Outcome run(
      ManagedSecret secret,
      RotationStrategy strategy,
      String scheduleName,
      String trigger,
      String requestedVersionId,
      Function<ManagedSecret, CompletionStage<?>> onStarted) {
    Instant started = Instant.now();
    RotationProgress progress = secret.getStatus().getRotation();
    Runnable requestForgotten = () -> {};
    if (progress == null) {
      secret = start(secret, strategy, scheduleName, trigger, requestedVersionId);
      progress = secret.getStatus().getRotation();
      CompletableFuture<?> forgetting = onStarted.apply(secret).toCompletableFuture();
      requestForgotten = () -> awaitForgotten(forgetting);
    } else {
      LOG.infof("%s: resuming rotation at step %s", id(secret), progress.getStep());
      started = Instant.parse(progress.getStartedAt());
    }
    RotationStrategy.Type type = RotationStrategy.Type.valueOf(progress.getStrategy());
    Timer.Sample sample = Timer.start(registry);
    try {
      if (type == RotationStrategy.Type.rotateEncryptionKey) {
        secret = keyRotation.rewrap(secret);
        requestForgotten.run();
        ledger.finish(secret, null);
      } else {
        steps(secret, strategy, handlers.get(type), requestForgotten);
      }
      record(type, "succeeded", sample);
      String versionId =
          type == RotationStrategy.Type.rotateEncryptionKey ? null : progress.getPendingVersionId();
      events.normal(
          secret,
          ManagedSecretConditions.ROTATION_SUCCEEDED,
          type + " rotation finished" + (versionId == null ? "" : "; CURRENT is " + versionId));
      return new Outcome(
          true,
          versionId,
          ManagedSecretConditions.ROTATION_SUCCEEDED,
          "rotated by " + type,
          started);
    } catch (RotationFailedException | KmsException e) {
      String reason =
          e instanceof RotationFailedException r
              ? r.reason()
              : ManagedSecretConditions.ROTATION_KMS_FAILED;
      String message =
          e instanceof KmsException kms ? kms.reason() + ": " + kms.getMessage() : e.getMessage();
      requestForgotten.run();
      abandon(fresh(secret), reason, message);
      record(type, "failed", sample);
      // Per secret, so that the dashboard can mark each failure (series: secrets that ever failed).
      registry
          .counter(
              "keywarden.managedsecret.rotation.failures",
              "namespace",
              secret.getMetadata().getNamespace(),
              "name",
              secret.getMetadata().getName())
          .increment();
      return new Outcome(false, null, reason, message, started);
    }
  }

  private void steps(
      ManagedSecret secret,
      RotationStrategy strategy,
      RotationHandler handler,
      Runnable requestForgotten) {
    if (!handler.hasDownstream()) {
      stepsWithoutDownstream(secret, strategy, handler, requestForgotten);
      return;
    }
    while (secret.getStatus().getRotation() != null) {
      RotationProgress progress = secret.getStatus().getRotation();
      RotationContext context = context(secret, strategy, progress.getPendingVersionId());
      switch (progress.getStep()) {
        case createSecret -> {
          String pending = progress.getPendingVersionId();
          SecretVersion stored = storePending(secret, pending, handler, context);
          requestForgotten.run();
          secret = ledger.pendingStored(secret, stored);
          FaultInjection.after("createSecret");
        }
        case setSecret -> {
          set(handler, context);
          secret = ledger.advance(secret, Step.testSecret);
          FaultInjection.after("setSecret");
        }
        case testSecret -> {
          test(handler, context);
          secret = ledger.advance(secret, Step.finishSecret);
          FaultInjection.after("testSecret");
        }
        case finishSecret -> {
          secret = ledger.finish(secret, progress.getPendingVersionId());
          FaultInjection.after("finishSecret");
        }
      }
    }
  }

  /**
   * The four steps for a handler with nothing downstream: the new value's ciphertext is stored
   * (unless a resumed run finds it), set and test run, and one status write lists and promotes it.
   * The reservation written before is the only state a crash can leave, and a resumed rotation
   * starts here again whatever step it recorded.
   */
  private void stepsWithoutDownstream(
      ManagedSecret secret,
      RotationStrategy strategy,
      RotationHandler handler,
      Runnable requestForgotten) {
    String pending = secret.getStatus().getRotation().getPendingVersionId();
    RotationContext context = context(secret, strategy, pending);
    SecretVersion stored = storePending(secret, pending, handler, context);
    FaultInjection.after("createSecret");
    set(handler, context);
    FaultInjection.after("setSecret");
    test(handler, context);
    FaultInjection.after("testSecret");
    requestForgotten.run();
    ledger.promoteStored(secret, stored);
    FaultInjection.after("finishSecret");
  }

  /**
   * Rethrows what forgetting the request failed with, unwrapped, so it fails the reconciliation.
   */
  private static void awaitForgotten(CompletableFuture<?> forgetting) {
    try {
      forgetting.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  /**
   * createSecret: the new value's ciphertext, unless a resumed run stored it already; returns the
   * version as the status lists it (without reading back what was just written).
   */
  private SecretVersion storePending(
      ManagedSecret secret, String pending, RotationHandler handler, RotationContext context) {
    Optional<Envelope> stored = store.get(secret, pending);
    if (stored.isPresent()) {
      return versions.describe(pending, stored.get());
    }
    SecretValue value = handler.newValue(context);
    try {
      return versions.storeAs(secret, pending, value);
    } finally {
      value.wipe();
    }
  }

  private static void set(RotationHandler handler, RotationContext context) {
    try {
      handler.set(context);
    } catch (RotationFailedException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new RotationFailedException(
          ManagedSecretConditions.ROTATION_SET_FAILED, "setSecret failed: " + e.getMessage(), e);
    }
  }

  /** testSecret; a failed test rolls set back before the failure is reported. */
  private void test(RotationHandler handler, RotationContext context) {
    try {
      handler.test(context);
    } catch (RuntimeException e) {
      rollback(handler, context);
      if (e instanceof RotationFailedException r) {
        throw r;
      }
      throw new RotationFailedException(
          ManagedSecretConditions.ROTATION_TEST_FAILED, "testSecret failed: " + e.getMessage(), e);
    }
  }

  private void rollback(RotationHandler handler, RotationContext context) {
    try {
      handler.rollback(context);
    } catch (RuntimeException e) {
      LOG.errorf(
          "%s/%s: rollback after a failed test also failed: %s",
          context.namespace(), context.name(), e.getMessage());
    }
  }

  private ManagedSecret start(
      ManagedSecret secret,
      RotationStrategy strategy,
      String scheduleName,
      String trigger,
      String versionId) {
    String message = strategy.getType() + " rotation started (" + trigger + ")";
    // A requested id already on record (asked for twice) must not name a second version.
    String pending =
        versionId == null
                || secret.getStatus().getVersions().stream()
                    .anyMatch(v -> versionId.equals(v.getVersionId()))
            ? java.util.UUID.randomUUID().toString()
            : versionId;
    ManagedSecret started =
        ledger.reservePending(
            secret, strategy.getType().name(), scheduleName, trigger, pending, message);
    events.normal(started, ManagedSecretConditions.ROTATION_STARTED, message);
    LOG.infof("%s: %s rotation started (%s)", id(secret), strategy.getType(), trigger);
    return started;
  }

  /** Discards PENDING, keeps CURRENT, records the failure and when to try again. */
  private void abandon(ManagedSecret secret, String reason, String message) {
    int failures =
        secret.getStatus().getRotationFailures() == null
            ? 1
            : secret.getStatus().getRotationFailures() + 1;
    Duration backoff = FIRST_RETRY.multipliedBy(1L << Math.min(failures - 1, 7));
    String retryAt =
        Instant.now()
            .plus(backoff.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : backoff)
            .truncatedTo(ChronoUnit.SECONDS)
            .toString();
    ManagedSecret updated = ledger.abandon(secret, reason, message, failures, retryAt);
    events.warning(updated, reason, message + "; CURRENT is unchanged");
    LOG.warnf("%s: rotation failed (%s): %s", id(secret), reason, message);
  }

  private RotationContext context(ManagedSecret secret, RotationStrategy strategy, String pending) {
    String current = secret.getStatus().getCurrentVersionId();
    return new RotationContext(
        secret,
        strategy,
        current,
        pending,
        () -> versions.read(secret, current),
        () ->
            store.get(secret, pending).map(envelope -> versions.unseal(secret, pending, envelope)));
  }

  private ManagedSecret fresh(ManagedSecret secret) {
    ManagedSecret latest =
        client
            .resources(ManagedSecret.class)
            .inNamespace(secret.getMetadata().getNamespace())
            .withName(secret.getMetadata().getName())
            .get();
    if (latest == null
        || latest.getStatus() == null
        || latest.getStatus().getCurrentVersionId() == null) {
      throw new RotationFailedException(
          ManagedSecretConditions.ROTATION_NOT_POSSIBLE,
          "ManagedSecret " + id(secret) + " has no CURRENT version");
    }
    return latest;
  }

  private void record(RotationStrategy.Type type, String result, Timer.Sample sample) {
    registry.counter("keywarden.rotations", "strategy", type.name(), "result", result).increment();
    sample.stop(
        Timer.builder("keywarden.rotation.duration")
            .tag("strategy", type.name())
            .publishPercentileHistogram()
            .register(registry));
  }

  private static String id(ManagedSecret secret) {
    return secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName();
  }

  private static String now() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
