package io.keywarden.operator.rotationschedule;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.RotationSchedule;
import io.keywarden.api.v1alpha1.RotationScheduleConditions;
import io.keywarden.api.v1alpha1.RotationScheduleStatus;
import io.keywarden.api.v1alpha1.RotationScheduleStatus.RotationResult;
import io.keywarden.api.v1alpha1.RotationScheduleStatus.TargetStatus;
import io.keywarden.api.v1alpha1.RotationStrategy;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.failure.Failure;
import io.keywarden.operator.kube.Conditions;
import io.keywarden.operator.kube.EventRecorder;
import io.keywarden.operator.rotation.RotationEngine;
import io.keywarden.operator.rotation.schedule.InvalidScheduleException;
import io.keywarden.operator.rotation.schedule.RotationTiming;
import io.keywarden.operator.rotation.schedule.Schedule;
import io.keywarden.operator.rotation.schedule.ScheduleParser;
import io.keywarden.operator.rotation.schedule.Window;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import org.apache.commons.lang3.concurrent.BasicThreadFactory;

/**
 * Decides when each target of a RotationSchedule rotates and hands due secrets to the {@link
 * RotationEngine}. It wakes itself up at the next due time; status shows the next and last rotation
 * per secret, the last result and a short history.
 */
@ControllerConfiguration(name = "rotationschedule")
public class RotationScheduleReconciler implements Reconciler<RotationSchedule> {

  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(RotationScheduleReconciler.class);

  private static final int HISTORY = 10;
  private static final Duration RECHECK = Duration.ofMinutes(5);
  private static final Duration RECHECK_INVALID = Duration.ofSeconds(30);

  private final KubernetesClient client;
  private final RotationEngine engine;
  private final EventRecorder events;
  private final Duration minimumInterval;
  private final ExecutorService workers;

  /** A target, what was known of it before this pass, and its rotation if it was due. */
  private record Plan(
      ManagedSecret target,
      Instant last,
      RotationTiming timing,
      Instant retryAt,
      CompletableFuture<Optional<RotationEngine.Outcome>> outcome) {}

  public RotationScheduleReconciler(
      KubernetesClient client,
      RotationEngine engine,
      EventRecorder events,
      KeywardenConfig config) {
    this.client = client;
    this.engine = engine;
    this.events = events;
    this.minimumInterval = config.rotation().minimumInterval();
    this.workers = Executors.newFixedThreadPool(config.rotation().parallelism(), daemonThreads());
  }

  @PreDestroy
  void shutdown() {
    workers.shutdownNow();
  }

  private static ThreadFactory daemonThreads() {
    return BasicThreadFactory.builder().namingPattern("keywarden-rotation-%d").daemon(true).build();
  }

  @Override
  public UpdateControl<RotationSchedule> reconcile(
      RotationSchedule rs, Context<RotationSchedule> context) {
    RotationScheduleStatus status =
        rs.getStatus() == null ? new RotationScheduleStatus() : rs.getStatus();
    rs.setStatus(status);
    Long generation = rs.getMetadata().getGeneration();
    status.setObservedGeneration(generation);
    Schedule schedule;
    Window window;
    try {
      schedule = ScheduleParser.parse(rs.getSpec().getSchedule(), minimumInterval);
      window = Window.parse(rs.getSpec().getWindow(), schedule);
      validateStrategy(rs);
    } catch (InvalidScheduleException | InvalidStrategyException e) {
      return invalid(
          rs,
          status,
          e instanceof InvalidScheduleException
              ? RotationScheduleConditions.INVALID_SCHEDULE
              : RotationScheduleConditions.INVALID_STRATEGY,
          e.getMessage());
    }
    List<ManagedSecret> targets;
    if (rs.getSpec().getSecretRef() != null) {
      ManagedSecret target =
          client
              .resources(ManagedSecret.class)
              .inNamespace(rs.getMetadata().getNamespace())
              .withName(rs.getSpec().getSecretRef().getName())
              .get();
      if (target == null) {
        return invalid(
            rs,
            status,
            RotationScheduleConditions.SECRET_NOT_FOUND,
            "spec.secretRef.name: ManagedSecret "
                + rs.getMetadata().getNamespace()
                + "/"
                + rs.getSpec().getSecretRef().getName()
                + " does not exist");
      }
      targets = List.of(target);
    } else {
      targets =
          client
              .resources(ManagedSecret.class)
              .inNamespace(rs.getMetadata().getNamespace())
              .withLabelSelector(rs.getSpec().getSelector())
              .list()
              .getItems();
    }

    Instant now = Instant.now();
    Instant anchor = Instant.parse(rs.getMetadata().getCreationTimestamp());
    Instant wake = now.plus(RECHECK);
    // First decide who is due, then rotate the due ones concurrently (a selector may name
    // hundreds of secrets falling due together; one after another they took ~50 ms each), then
    // record results in target order so status stays deterministic.
    List<Plan> plans = new ArrayList<>();
    for (ManagedSecret target : targets) {
      if (target.getStatus() == null || target.getStatus().getCurrentVersionId() == null) {
        continue;
      }
      TargetStatus previous =
          status.getSecrets().stream()
              .filter(t -> t.getName().equals(target.getMetadata().getName()))
              .findFirst()
              .orElse(null);
      Instant last =
          previous == null || previous.getLastRotationTime() == null
              ? null
              : Instant.parse(previous.getLastRotationTime());
      RotationTiming timing =
          new RotationTiming(schedule, window, anchor, last, target.getMetadata().getUid());
      boolean immediately =
          Boolean.TRUE.equals(rs.getSpec().getRotateImmediately()) && last == null;
      Instant retryAt =
          target.getStatus().getRetryRotationAt() == null
              ? null
              : Instant.parse(target.getStatus().getRetryRotationAt());
      boolean inProgress = target.getStatus().getRotation() != null;
      boolean due =
          inProgress
              || (!Boolean.TRUE.equals(rs.getSpec().getSuspend())
                  && (immediately || timing.isDue(now))
                  && (retryAt == null || !retryAt.isAfter(now)));
      String trigger =
          inProgress ? RotationEngine.RESUMED : immediately ? "rotateImmediately" : "scheduled";
      CompletableFuture<Optional<RotationEngine.Outcome>> outcome =
          due
              ? CompletableFuture.supplyAsync(() -> rotate(target, rs, trigger), workers)
              : CompletableFuture.completedFuture(Optional.empty());
      plans.add(new Plan(target, last, timing, retryAt, outcome));
    }

    List<TargetStatus> targetStatuses = new ArrayList<>();
    for (Plan plan : plans) {
      ManagedSecret target = plan.target();
      Instant last = plan.last();
      RotationTiming timing = plan.timing();
      Optional<RotationEngine.Outcome> outcome = plan.outcome().join();
      if (outcome.isPresent()) {
        record(status, target.getMetadata().getName(), outcome.get());
        if (outcome.get().succeeded()) {
          last = Instant.now();
          timing =
              new RotationTiming(schedule, window, anchor, last, target.getMetadata().getUid());
        }
      }
      Instant next = timing.rotateAt().orElse(null);
      Instant retryAt = plan.retryAt();
      if (retryAt != null && retryAt.isAfter(now) && (next == null || retryAt.isAfter(next))) {
        next = retryAt;
      }
      targetStatuses.add(
          new TargetStatus(
              target.getMetadata().getName(),
              last == null ? null : iso(last),
              next == null ? null : iso(next)));
      if (next != null && next.isBefore(wake)) {
        wake = next;
      }
    }
    status.setSecrets(targetStatuses);
    status.setNextRotationTime(
        Boolean.TRUE.equals(rs.getSpec().getSuspend())
            ? null
            : targetStatuses.stream()
                .map(TargetStatus::getNextRotationTime)
                .filter(Objects::nonNull)
                .min(Comparator.naturalOrder())
                .orElse(null));
    status.setLastRotationTime(
        targetStatuses.stream()
            .map(TargetStatus::getLastRotationTime)
            .filter(Objects::nonNull)
            .max(Comparator.naturalOrder())
            .orElse(status.getLastRotationTime()));
    Conditions.set(
        status.getConditions(),
        RotationScheduleConditions.READY,
        true,
        Boolean.TRUE.equals(rs.getSpec().getSuspend())
            ? RotationScheduleConditions.SUSPENDED
            : RotationScheduleConditions.SCHEDULED,
        targets.isEmpty()
            ? "no ManagedSecret matches"
            : targets.size() + " secret(s) on " + schedule.expression(),
        generation);
    Duration sleep = Duration.between(Instant.now(), wake);
    return UpdateControl.patchStatus(rs)
        .rescheduleAfter(sleep.isNegative() ? Duration.ofSeconds(1) : sleep.plusMillis(200));
  }

  /**
   * A rotation that loses a write race to another writer stays on record at its last persisted step
   * and resumes on the next pass; one log line, no stack.
   */
  private Optional<RotationEngine.Outcome> rotate(
      ManagedSecret target, RotationSchedule rs, String trigger) {
    try {
      return engine.rotate(target, rs.getSpec().getStrategy(), rs.getMetadata().getName(), trigger);
    } catch (RuntimeException e) {
      if (Failure.of(e) != Failure.CONFLICT) {
        throw e;
      }
      LOG.infof(
          "%s/%s: changed by another writer during the rotation; it resumes on the next pass",
          target.getMetadata().getNamespace(), target.getMetadata().getName());
      return Optional.empty();
    }
  }

  private void validateStrategy(RotationSchedule rs) {
    RotationStrategy strategy = rs.getSpec().getStrategy();
    if (strategy.getType() == RotationStrategy.Type.postgresql) {
      String admin = strategy.getPostgresql().getAdminSecretRef();
      if (client
              .resources(ManagedSecret.class)
              .inNamespace(rs.getMetadata().getNamespace())
              .withName(admin)
              .get()
          == null) {
        throw new InvalidStrategyException(
            "spec.strategy.postgresql.adminSecretRef: ManagedSecret "
                + rs.getMetadata().getNamespace()
                + "/"
                + admin
                + " does not exist");
      }
    }
  }

  private static void record(
      RotationScheduleStatus status, String secret, RotationEngine.Outcome outcome) {
    RotationResult result = new RotationResult();
    result.setSecret(secret);
    result.setVersionId(outcome.versionId());
    result.setResult(
        outcome.succeeded() ? RotationResult.Result.Succeeded : RotationResult.Result.Failed);
    result.setReason(outcome.reason());
    result.setMessage(outcome.message());
    result.setStartedAt(iso(outcome.startedAt()));
    result.setFinishedAt(iso(Instant.now()));
    status.setLastResult(result);
    status.getHistory().add(0, result);
    while (status.getHistory().size() > HISTORY) {
      status.getHistory().remove(status.getHistory().size() - 1);
    }
  }

  private UpdateControl<RotationSchedule> invalid(
      RotationSchedule rs, RotationScheduleStatus status, String reason, String message) {
    boolean changed =
        status.getConditions().stream()
            .noneMatch(
                c ->
                    RotationScheduleConditions.READY.equals(c.getType())
                        && message.equals(c.getMessage()));
    Conditions.set(
        status.getConditions(),
        RotationScheduleConditions.READY,
        false,
        reason,
        message,
        rs.getMetadata().getGeneration());
    status.setNextRotationTime(null);
    if (changed) {
      events.warning(rs, reason, message);
    }
    return UpdateControl.patchStatus(rs).rescheduleAfter(RECHECK_INVALID);
  }

  private static String iso(Instant instant) {
    return instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  static final class InvalidStrategyException extends RuntimeException {
    InvalidStrategyException(String message) {
      super(message);
    }
  }

  static List<Condition> conditions(RotationSchedule rs) {
    return rs.getStatus() == null ? List.of() : rs.getStatus().getConditions();
  }
}
