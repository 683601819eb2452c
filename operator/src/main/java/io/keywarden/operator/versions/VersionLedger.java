package io.keywarden.operator.versions;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import io.keywarden.api.v1alpha1.RotationProgress;
import io.keywarden.api.v1alpha1.RotationProgress.Step;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.failure.ConflictException;
import io.keywarden.operator.kube.Conditions;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.jboss.logging.Logger;

/**
 * The ledger of a ManagedSecret's versions, stages and rotation progress: the only writer of
 * ManagedSecret.status. Every change is a named transition applied to the latest stored status and
 * written with optimistic concurrency; a conflict re-reads and re-applies it (bounded, with
 * jitter), so concurrent writers (reconciler, API replicas, rotations) never overwrite each other.
 * When the bound is reached the transition fails with a {@link ConflictException}, which the API
 * answers 409 with Retry-After.
 */
@ApplicationScoped
public class VersionLedger {

  private static final Logger LOG = Logger.getLogger(VersionLedger.class);
  private static final int CONFLICT_RETRIES = 12;

  private final KubernetesClient client;
  private final CiphertextStore store;

  public VersionLedger(KubernetesClient client, CiphertextStore store) {
    this.client = client;
    this.store = store;
  }

  // ---- the controller's record of a reconciliation

  /** What the ManagedSecret controller concluded in one reconciliation. */
  public record Observation(
      SecretVersion firstVersion,
      int versionsToKeep,
      String readyMessage,
      Degradation unreadable,
      Condition degraded,
      String nextRotationAt,
      Long generation) {}

  /** Why CURRENT cannot be served although it exists: Ready is False with this reason. */
  public record Degradation(String reason, String message) {}

  /** The secret as stored, and the deprecated versions pruned (their ciphertext is gone too). */
  public record Recorded(ManagedSecret secret, List<String> pruned) {}

  /**
   * Records a reconciliation: the first version as CURRENT if there is none yet, pruning beyond
   * versionsToKeep (the pruned versions' ciphertext is deleted once the status no longer lists
   * them), Ready, Degraded, nextRotationAt and observedGeneration. A status that would not change
   * is not written: most reconciliations (a watched record changed, a key's health was re-checked,
   * the informer resynced) find everything as recorded, and a write would cost the apiserver an
   * update and every watcher an event. A write goes through the controller's cache, so the next
   * reconciliation sees it, and its own watch event does not come back as another reconciliation.
   */
  public Recorded reconciled(
      ManagedSecret secret, Context<ManagedSecret> context, Observation observation) {
    List<String> pruned = new ArrayList<>();
    ManagedSecret stored =
        write(
            secret,
            status -> {
              SecretVersion first = observation.firstVersion();
              if (first != null && status.getCurrentVersionId() == null) {
                status.getVersions().add(0, withStages(first, List.of(SecretVersion.CURRENT)));
                status.setCurrentVersionId(first.getVersionId());
              }
              pruned.clear();
              pruned.addAll(VersionPruner.prune(status, observation.versionsToKeep()));
              Degradation unreadable = observation.unreadable();
              Conditions.set(
                  status.getConditions(),
                  ManagedSecretConditions.READY,
                  unreadable == null,
                  unreadable == null
                      ? ManagedSecretConditions.VERSION_AVAILABLE
                      : unreadable.reason(),
                  unreadable == null
                      ? "CURRENT is version "
                          + status.getCurrentVersionId()
                          + observation.readyMessage()
                      : unreadable.message(),
                  observation.generation());
              Condition degraded = observation.degraded();
              Conditions.set(
                  status.getConditions(),
                  degraded.getType(),
                  "True".equals(degraded.getStatus()),
                  degraded.getReason(),
                  degraded.getMessage(),
                  observation.generation());
              status.setNextRotationAt(observation.nextRotationAt());
              status.setObservedGeneration(observation.generation());
            },
            Unchanged.SKIP,
            changed -> context.resourceOperations().updatePrimaryStatus(changed));
    for (String versionId : pruned) {
      store.delete(secret.getMetadata().getUid(), versionId);
    }
    return new Recorded(stored, List.copyOf(pruned));
  }

  /** Records conditions a failed reconciliation found; the rest of the status stays as stored. */
  public void failed(ManagedSecret secret, List<Condition> conditions, Long generation) {
    write(
        secret,
        latest -> {
          for (Condition condition : conditions) {
            latest.getConditions().removeIf(c -> c.getType().equals(condition.getType()));
            latest.getConditions().add(condition);
          }
          latest.getConditions().sort(Comparator.comparing(Condition::getType));
          latest.setObservedGeneration(generation);
        });
  }

  // ---- restore

  /**
   * A restored secret: the versions of a deleted one, re-bound to this object and listed with their
   * stages, unless this object has a CURRENT already (then the status stays as it is).
   */
  public ManagedSecret restored(
      ManagedSecret secret,
      List<SecretVersion> versions,
      String current,
      String previous,
      String pending) {
    return write(
        secret,
        s -> {
          if (s.getCurrentVersionId() == null) {
            s.setVersions(new ArrayList<>(versions));
            s.setCurrentVersionId(current);
            s.setPreviousVersionId(previous);
            s.setPendingVersionId(pending);
          }
        });
  }

  // ---- PutSecretValue

  /**
   * PutSecretValue: a version whose ciphertext is stored becomes CURRENT; the old CURRENT becomes
   * PREVIOUS. A version the status lists already is left as it is (AWS ignores a repeated
   * ClientRequestToken), so two requests recording the same version make one. If the status cannot
   * be written, the version's ciphertext is removed at once: no orphan is left for a later
   * reconciliation to find.
   */
  public ManagedSecret putCurrent(ManagedSecret secret, SecretVersion version) {
    try {
      return recordPut(secret, version);
    } catch (RuntimeException e) {
      store.delete(secret.getMetadata().getUid(), version.getVersionId());
      throw e;
    }
  }

  /**
   * The same transition for a version whose ciphertext another request stored (same
   * ClientRequestToken, same value): recorded if that request has not yet, and its ciphertext is
   * never removed here, since it is not this request's.
   */
  public ManagedSecret adoptPut(ManagedSecret secret, SecretVersion version) {
    return recordPut(secret, version);
  }

  private ManagedSecret recordPut(ManagedSecret secret, SecretVersion version) {
    return write(
        secret,
        status -> {
          if (status.getVersions().stream()
              .noneMatch(v -> v.getVersionId().equals(version.getVersionId()))) {
            status.getVersions().add(0, withStages(version, List.of()));
            Stages.promote(status, version.getVersionId());
          }
        });
  }

  // ---- rotation, AWS Secrets Manager's steps

  /**
   * Reserves a PENDING version id and records the rotation at its first step, before any ciphertext
   * is written: a crash never orphans ciphertext. A rotation already on record stays.
   */
  public ManagedSecret reservePending(
      ManagedSecret secret,
      String strategy,
      String schedule,
      String trigger,
      String pending,
      String message) {
    String now = now();
    return write(
        secret,
        s -> {
          if (s.getRotation() == null) {
            RotationProgress progress = new RotationProgress();
            progress.setStep(Step.createSecret);
            progress.setPendingVersionId(pending);
            progress.setStartedAt(now);
            progress.setReason(trigger);
            progress.setSchedule(schedule);
            progress.setStrategy(strategy);
            s.setRotation(progress);
            Conditions.set(
                s.getConditions(),
                ManagedSecretConditions.ROTATING,
                true,
                ManagedSecretConditions.ROTATION_IN_PROGRESS,
                message,
                secret.getMetadata().getGeneration());
          }
        });
  }

  /**
   * createSecret done: the PENDING version (its ciphertext stored) is listed, next is setSecret.
   */
  public ManagedSecret pendingStored(ManagedSecret secret, SecretVersion pending) {
    return write(secret, s -> listPending(s, pending));
  }

  private static void listPending(ManagedSecretStatus s, SecretVersion pending) {
    if (s.getVersions().stream().noneMatch(v -> v.getVersionId().equals(pending.getVersionId()))) {
      s.getVersions().add(0, withStages(pending, List.of(SecretVersion.PENDING)));
    }
    s.setPendingVersionId(pending.getVersionId());
    if (s.getRotation() != null) {
      s.getRotation().setStep(Step.setSecret);
    }
  }

  /**
   * createSecret and finishSecret in one write, for a rotation with nothing downstream to set or
   * test (its setSecret and testSecret change nothing outside this status): the PENDING version is
   * listed and promoted to CURRENT at once. Until this write the status holds only the reservation,
   * from which a resumed rotation finds the stored ciphertext and comes here again.
   */
  public ManagedSecret promoteStored(ManagedSecret secret, SecretVersion pending) {
    String now = now();
    return write(
        secret,
        s -> {
          listPending(s, pending);
          promotePending(s, pending.getVersionId(), now, secret.getMetadata().getGeneration());
        });
  }

  /** The rotation reached {@code step}. */
  public ManagedSecret advance(ManagedSecret secret, Step step) {
    return write(
        secret,
        s -> {
          if (s.getRotation() != null) {
            s.getRotation().setStep(step);
          }
        });
  }

  /**
   * finishSecret: PENDING is promoted to CURRENT (CURRENT becomes PREVIOUS) and the rotation ends,
   * in one write. {@code pending} is null for a rotation that makes no new version (re-wrap).
   */
  public ManagedSecret finish(ManagedSecret secret, String pending) {
    String now = now();
    return write(
        secret, s -> promotePending(s, pending, now, secret.getMetadata().getGeneration()));
  }

  private static void promotePending(
      ManagedSecretStatus s, String pending, String now, Long generation) {
    if (pending != null
        && s.getVersions().stream().anyMatch(v -> v.getVersionId().equals(pending))) {
      Stages.promote(s, pending);
    }
    s.setPendingVersionId(null);
    s.setRotation(null);
    s.setLastRotatedAt(now);
    s.setRotationFailures(null);
    s.setRetryRotationAt(null);
    Conditions.set(
        s.getConditions(),
        ManagedSecretConditions.ROTATING,
        false,
        ManagedSecretConditions.ROTATION_SUCCEEDED,
        "last rotation finished at " + now,
        generation);
  }

  /**
   * A failed rotation: PENDING is dropped (its ciphertext too), CURRENT stays, the failure and the
   * earliest next attempt are recorded. Degraded follows from them.
   */
  public ManagedSecret abandon(
      ManagedSecret secret, String reason, String message, int failures, String retryAt) {
    String pending =
        secret.getStatus().getRotation() == null
            ? null
            : secret.getStatus().getRotation().getPendingVersionId();
    ManagedSecret updated =
        write(
            secret,
            s -> {
              if (pending != null && !pending.equals(s.getCurrentVersionId())) {
                s.getVersions().removeIf(v -> v.getVersionId().equals(pending));
              }
              s.setPendingVersionId(null);
              s.setRotation(null);
              s.setRotationFailures(failures);
              s.setRetryRotationAt(retryAt);
              Conditions.set(
                  s.getConditions(),
                  ManagedSecretConditions.ROTATING,
                  false,
                  reason,
                  message,
                  secret.getMetadata().getGeneration());
            });
    if (pending != null && !pending.equals(updated.getStatus().getCurrentVersionId())) {
      store.delete(secret.getMetadata().getUid(), pending);
    }
    return updated;
  }

  /** A rotation that could not even start (nothing can make a new value): recorded as failed. */
  public ManagedSecret refuseRotation(ManagedSecret secret, String reason, String message) {
    return write(
        secret,
        s -> {
          s.setRotationFailures(s.getRotationFailures() == null ? 1 : s.getRotationFailures() + 1);
          Conditions.set(
              s.getConditions(),
              ManagedSecretConditions.ROTATING,
              false,
              reason,
              message,
              secret.getMetadata().getGeneration());
        });
  }

  // ---- re-wrapping

  /** After a re-wrap: each listed version names the KMS key and key version it is now under. */
  public ManagedSecret rewrapped(ManagedSecret secret, Map<String, KeyRef> keys) {
    return write(
        secret,
        s ->
            s.getVersions()
                .forEach(
                    v -> {
                      KeyRef key = keys.get(v.getVersionId());
                      if (key != null) {
                        v.setKmsKeyId(key.kmsKeyId());
                        v.setKeyVersion(key.keyVersion());
                      }
                    }));
  }

  /** The KMS key and key version a version's data key is wrapped with. */
  public record KeyRef(String kmsKeyId, Integer keyVersion) {}

  // ---- access

  /**
   * Records a successful read on the day it happened (AWS's LastAccessedDate: day granularity), so
   * reads cost at most one status write per secret and day: nothing when the status (as the caller
   * saw it) already names the day or a later one; otherwise one merge patch of that field alone,
   * guarded by the resourceVersion the caller saw. A concurrent writer wins (409): its write is the
   * newer status, and the next read tries again. Never retried, never fails the read.
   */
  public void accessed(ManagedSecret seen, Instant at) {
    if (accessRecorded(seen, at)) {
      return;
    }
    String day = day(at);
    String patch =
        "{\"metadata\":{\"resourceVersion\":\""
            + seen.getMetadata().getResourceVersion()
            + "\"},\"status\":{\"lastAccessedDate\":\""
            + day
            + "\"}}";
    try {
      client
          .resources(ManagedSecret.class)
          .inNamespace(seen.getMetadata().getNamespace())
          .withName(seen.getMetadata().getName())
          .subresource("status")
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    } catch (KubernetesClientException e) {
      LOG.debugf(
          "%s/%s: lastAccessedDate not recorded now (%d); the next read tries again",
          seen.getMetadata().getNamespace(), seen.getMetadata().getName(), e.getCode());
    }
  }

  /**
   * Whether the status (as the caller saw it) already names the day of {@code at} or a later one.
   */
  static boolean accessRecorded(ManagedSecret seen, Instant at) {
    String day = day(at);
    String recorded = seen.getStatus() == null ? null : seen.getStatus().getLastAccessedDate();
    return recorded != null && recorded.compareTo(day) >= 0;
  }

  /**
   * The day of {@code at} as the status spells it ({@code 2026-12-01T00:00:00Z}). Every cached read
   * asks; formatting an Instant each time was 2 % of its CPU, so the last day's text is kept.
   */
  private static String day(Instant at) {
    long epochDay = Math.floorDiv(at.getEpochSecond(), 86_400L);
    Day last = lastDay;
    if (last == null || last.epochDay() != epochDay) {
      last = new Day(epochDay, at.truncatedTo(ChronoUnit.DAYS).toString());
      lastDay = last;
    }
    return last.text();
  }

  private record Day(long epochDay, String text) {}

  private static volatile Day lastDay;

  // ----

  /** Whether a transition that leaves the status as it is still writes it. */
  private enum Unchanged {
    /** The caller's copy is the controller's own view: an equal status is already stored. */
    SKIP,
    /** The caller's copy may be stale (API, rotation): only the optimistic write can tell. */
    WRITE
  }

  private ManagedSecret write(ManagedSecret secret, Consumer<ManagedSecretStatus> change) {
    return write(
        secret, change, Unchanged.WRITE, changed -> client.resource(changed).updateStatus());
  }

  private ManagedSecret write(
      ManagedSecret secret,
      Consumer<ManagedSecretStatus> change,
      Unchanged unchanged,
      UnaryOperator<ManagedSecret> update) {
    ManagedSecret current = secret;
    for (int attempt = 0; ; attempt++) {
      String before = unchanged == Unchanged.SKIP ? json(current.getStatus()) : null;
      ManagedSecretStatus status =
          current.getStatus() == null ? new ManagedSecretStatus() : current.getStatus();
      change.accept(status);
      current.setStatus(status);
      if (before != null && before.equals(json(status))) {
        return current;
      }
      try {
        return update.apply(current);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        if (attempt >= CONFLICT_RETRIES) {
          LOG.infof(
              "%s/%s: status still changing after %d attempts; giving up this write",
              secret.getMetadata().getNamespace(), secret.getMetadata().getName(), attempt + 1);
          throw new ConflictException(
              "ManagedSecret "
                  + secret.getMetadata().getNamespace()
                  + "/"
                  + secret.getMetadata().getName()
                  + " is being changed by other writers at the same moment; retry");
        }
        pause(attempt);
        current =
            client
                .resources(ManagedSecret.class)
                .inNamespace(secret.getMetadata().getNamespace())
                .withName(secret.getMetadata().getName())
                .get();
        if (current == null) {
          throw new KubernetesClientException(
              "ManagedSecret " + secret.getMetadata().getName() + " was deleted", 404, null);
        }
      }
    }
  }

  private String json(ManagedSecretStatus status) {
    return client.getKubernetesSerialization().asJson(status);
  }

  /** Spreads the retries of writers that collided, so they do not collide again in step. */
  private static void pause(int attempt) {
    long bound = Math.min(200, 10L << Math.min(attempt, 4));
    try {
      Thread.sleep(ThreadLocalRandom.current().nextLong(1, bound));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static SecretVersion withStages(SecretVersion version, List<String> stages) {
    return new SecretVersion(
        version.getVersionId(),
        stages,
        version.getCreatedDate(),
        version.getKmsKeyId(),
        version.getKeyVersion());
  }

  static String now() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
