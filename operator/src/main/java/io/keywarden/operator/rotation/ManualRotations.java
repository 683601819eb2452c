package io.keywarden.operator.rotation;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.RotationSchedule;
import io.keywarden.api.v1alpha1.RotationStrategy;
import io.keywarden.operator.kube.EventRecorder;
import io.keywarden.operator.versions.VersionLedger;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.commons.lang3.concurrent.BasicThreadFactory;

/**
 * Rotations the ManagedSecret reconciler drives: the keywarden.io/rotate-now annotation (set by
 * users or by the API's rotate action), and rotations left half-way by a crash, which resume on the
 * first reconciliation after a restart. The strategy is the targeting RotationSchedule's, or
 * generate when no schedule targets the secret and it has spec.generate.
 */
@ApplicationScoped
public class ManualRotations {

  private final KubernetesClient client;
  private final RotationEngine engine;
  private final VersionLedger ledger;
  private final EventRecorder events;
  // Daemon threads, created on demand and gone when idle: one per rotation in flight at most.
  private final ExecutorService requests =
      Executors.newCachedThreadPool(
          BasicThreadFactory.builder().namingPattern("keywarden-rotate-now").daemon(true).build());

  public ManualRotations(
      KubernetesClient client, RotationEngine engine, VersionLedger ledger, EventRecorder events) {
    this.client = client;
    this.engine = engine;
    this.ledger = ledger;
    this.events = events;
  }

  public ManagedSecret resumeOrStartManual(ManagedSecret secret) {
    var progress = secret.getStatus().getRotation();
    String requested =
        secret.getMetadata().getAnnotations() == null
            ? null
            : secret.getMetadata().getAnnotations().get(ManagedSecret.ROTATE_NOW_ANNOTATION);
    // RotateSecret's ClientRequestToken, when the API asked: the new version's id.
    String versionId =
        secret.getMetadata().getAnnotations() == null
            ? null
            : secret.getMetadata().getAnnotations().get(ManagedSecret.ROTATE_VERSION_ID_ANNOTATION);
    Optional<RotationSchedule> schedule =
        progress != null && progress.getSchedule() != null
            ? Optional.ofNullable(
                client
                    .resources(RotationSchedule.class)
                    .inNamespace(secret.getMetadata().getNamespace())
                    .withName(progress.getSchedule())
                    .get())
            : targeting(secret);
    RotationStrategy strategy = schedule.map(s -> s.getSpec().getStrategy()).orElse(null);
    if (strategy == null && progress != null && progress.getStrategy() != null) {
      strategy = new RotationStrategy();
      strategy.setType(RotationStrategy.Type.valueOf(progress.getStrategy()));
    }
    if (strategy == null && secret.getSpec().getGenerate() != null) {
      strategy = new RotationStrategy();
      strategy.setType(RotationStrategy.Type.generate);
    }
    if (strategy == null) {
      String message =
          ManagedSecret.ROTATE_NOW_ANNOTATION
              + ": no RotationSchedule targets this secret and it has no spec.generate,"
              + " so there is no way to make a new value; create a RotationSchedule";
      events.warning(secret, ManagedSecretConditions.ROTATION_NOT_CONFIGURED, message);
      clearRequest(secret, requested);
      // Recorded as a failed rotation: Degraded follows from it until a rotation succeeds.
      return ledger.refuseRotation(
          secret, ManagedSecretConditions.ROTATION_NOT_CONFIGURED, message);
    }
    String trigger = progress != null ? RotationEngine.RESUMED : "manual";
    // The request is dropped once the rotation it asked for is on record, beside the new value's
    // encryption and storage (one GET and PATCH off the path to CURRENT); the engine waits for it
    // before finishing, so a crash never leaves a finished rotation with its request still there.
    // A resumed rotation (or one another thread runs) never calls back: the request goes after it.
    AtomicReference<CompletableFuture<Void>> clearing = new AtomicReference<>();
    engine.rotate(
        secret,
        strategy,
        schedule.map(s -> s.getMetadata().getName()).orElse(null),
        trigger,
        versionId,
        started -> {
          CompletableFuture<Void> clear =
              CompletableFuture.runAsync(() -> clearRequest(secret, requested), requests);
          clearing.set(clear);
          return clear;
        });
    if (clearing.get() == null) {
      clearRequest(secret, requested);
    }
    return client
        .resources(ManagedSecret.class)
        .inNamespace(secret.getMetadata().getNamespace())
        .withName(secret.getMetadata().getName())
        .get();
  }

  /** The request is removed only if nobody asked again meanwhile. */
  private void clearRequest(ManagedSecret secret, String requested) {
    if (requested == null) {
      return;
    }
    client
        .resources(ManagedSecret.class)
        .inNamespace(secret.getMetadata().getNamespace())
        .withName(secret.getMetadata().getName())
        .edit(
            s -> {
              if (s.getMetadata().getAnnotations() != null
                  && requested.equals(
                      s.getMetadata().getAnnotations().get(ManagedSecret.ROTATE_NOW_ANNOTATION))) {
                s.getMetadata().getAnnotations().remove(ManagedSecret.ROTATE_NOW_ANNOTATION);
                s.getMetadata().getAnnotations().remove(ManagedSecret.ROTATE_VERSION_ID_ANNOTATION);
              }
              return s;
            });
  }

  private Optional<RotationSchedule> targeting(ManagedSecret secret) {
    Map<String, String> labels =
        secret.getMetadata().getLabels() == null ? Map.of() : secret.getMetadata().getLabels();
    return client
        .resources(RotationSchedule.class)
        .inNamespace(secret.getMetadata().getNamespace())
        .list()
        .getItems()
        .stream()
        .filter(
            s ->
                s.getSpec().getSecretRef() != null
                    ? secret.getMetadata().getName().equals(s.getSpec().getSecretRef().getName())
                    : matches(s.getSpec().getSelector(), labels))
        .sorted(java.util.Comparator.comparing(s -> s.getMetadata().getName()))
        .findFirst();
  }

  private static boolean matches(LabelSelector selector, Map<String, String> labels) {
    if (selector == null) {
      return false;
    }
    if (selector.getMatchLabels() != null
        && !selector.getMatchLabels().entrySet().stream()
            .allMatch(e -> e.getValue().equals(labels.get(e.getKey())))) {
      return false;
    }
    if (selector.getMatchExpressions() != null) {
      for (var expression : selector.getMatchExpressions()) {
        String value = labels.get(expression.getKey());
        boolean ok =
            switch (expression.getOperator()) {
              case "In" -> value != null && expression.getValues().contains(value);
              case "NotIn" -> value == null || !expression.getValues().contains(value);
              case "Exists" -> value != null;
              case "DoesNotExist" -> value == null;
              default -> false;
            };
        if (!ok) {
          return false;
        }
      }
    }
    return true;
  }
}
