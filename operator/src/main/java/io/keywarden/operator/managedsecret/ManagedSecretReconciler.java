package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.AggregatedOperatorException;
import io.javaoperatorsdk.operator.OperatorException;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.dependent.workflow.WorkflowReconcileResult;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import io.keywarden.api.v1alpha1.RotationSchedule;
import io.keywarden.api.v1alpha1.RotationScheduleStatus;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.ConflictException;
import io.keywarden.operator.failure.Failure;
import io.keywarden.operator.failure.KeywardenException;
import io.keywarden.operator.failure.UnknownKmsKeyException;
import io.keywarden.operator.kms.KmsHealth;
import io.keywarden.operator.kms.KmsKey;
import io.keywarden.operator.kms.KmsKeys;
import io.keywarden.operator.kube.Conditions;
import io.keywarden.operator.kube.EventRecorder;
import io.keywarden.operator.kube.WithoutManagedFields;
import io.keywarden.operator.rotation.ManualRotations;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.operator.versions.DeletedSecrets;
import io.keywarden.operator.versions.EnvelopeRewrapper;
import io.keywarden.operator.versions.SecretVersions;
import io.keywarden.operator.versions.VersionLedger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Keeps a ManagedSecret's versions: creates the first one from spec, stores only envelopes, prunes
 * deprecated versions beyond versionsToKeep, syncs the opt-in core Secret, and reports it all in
 * the status, written once per reconciliation.
 */
@Workflow(
    explicitInvocation = true,
    dependents = {
      @Dependent(type = AccessRoleDependent.class),
      @Dependent(type = AccessRoleBindingDependent.class),
      @Dependent(type = SyncedSecretDependent.class)
    })
@ControllerConfiguration(
    name = "managedsecret",
    finalizerName = ManagedSecret.FINALIZER,
    generationAwareEventProcessing = false,
    informer = @Informer(onUpdateFilter = ReconcileTrigger.class))
public class ManagedSecretReconciler
    implements Reconciler<ManagedSecret>,
        Cleaner<ManagedSecret>,
        io.quarkiverse.operatorsdk.runtime.api.ConfigurableReconciler<ManagedSecret> {

  private static final Logger LOG = Logger.getLogger(ManagedSecretReconciler.class);

  /**
   * A ciphertext Secret not (yet) in the status is an orphan only after this long: the status write
   * may be in flight.
   */
  private static final Duration ORPHAN_GRACE = Duration.ofMinutes(2);

  private static final Duration RECHECK_INVALID = Duration.ofSeconds(30);

  private final KmsKeys kmsKeys;
  private final SecretVersions versions;
  private final VersionLedger ledger;
  private final CiphertextStore store;
  private final InitialValue initialValue;
  private final SecretSync sync;
  private final EventRecorder events;
  private final ManualRotations rotations;
  private final EnvelopeRewrapper rewrapper;
  private final KmsHealth kmsHealth;
  private final StageCheck stageCheck;
  private final DegradedSecrets degradedSecrets;
  private final DeletedSecrets deleted;

  public ManagedSecretReconciler(
      KmsKeys kmsKeys,
      SecretVersions versions,
      VersionLedger ledger,
      CiphertextStore store,
      InitialValue initialValue,
      SecretSync sync,
      EventRecorder events,
      ManualRotations rotations,
      EnvelopeRewrapper rewrapper,
      KmsHealth kmsHealth,
      StageCheck stageCheck,
      DegradedSecrets degradedSecrets,
      DeletedSecrets deleted) {
    this.kmsKeys = kmsKeys;
    this.versions = versions;
    this.ledger = ledger;
    this.store = store;
    this.initialValue = initialValue;
    this.sync = sync;
    this.events = events;
    this.rotations = rotations;
    this.rewrapper = rewrapper;
    this.kmsHealth = kmsHealth;
    this.stageCheck = stageCheck;
    this.degradedSecrets = degradedSecrets;
    this.deleted = deleted;
  }

  /**
   * The primary cache keeps ManagedSecrets without managedFields (see {@link WithoutManagedFields})
   * when one informer fills it: all namespaces, or one. JOSDK gives every watched namespace an
   * informer of its own but the configured store to all of them, and a relist of one would then
   * drop the others' objects, so with several namespaces the store stays JOSDK's.
   */
  @Override
  public void updateConfigurationFrom(
      io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider<ManagedSecret>
          overrider) {
    var config = org.eclipse.microprofile.config.ConfigProvider.getConfig();
    String namespaces =
        config
            .getOptionalValue(
                "quarkus.operator-sdk.controllers.managedsecret.namespaces", String.class)
            .or(() -> config.getOptionalValue("quarkus.operator-sdk.namespaces", String.class))
            .orElse("");
    if (namespaces.isBlank() || !namespaces.contains(",")) {
      overrider.withItemStore(new WithoutManagedFields<>());
    }
  }

  @Override
  public List<EventSource<?, ManagedSecret>> prepareEventSources(
      EventSourceContext<ManagedSecret> context) {
    // Changes to the ciphertext (deleted, altered) bring the owner back for a check.
    var ciphertext =
        InformerEventSourceConfiguration.from(Secret.class, ManagedSecret.class)
            .withName("ciphertext")
            .withNamespaces(Set.of(store.namespace()))
            // One namespace, so one informer and one store.
            .withItemStore(new WithoutManagedFields<>())
            .withLabelSelector(CiphertextStore.LABEL_SECRET_UID)
            .withSecondaryToPrimaryMapper(
                s ->
                    Set.of(
                        new ResourceID(
                            s.getMetadata()
                                .getAnnotations()
                                .get(CiphertextStore.ANNOTATION_SECRET_NAME),
                            s.getMetadata()
                                .getLabels()
                                .get(CiphertextStore.LABEL_SECRET_NAMESPACE))))
            .build();
    // A key whose health changes brings the secrets using it back, so Degraded follows the KMS both
    // ways.
    var kmsChanges = new SimpleInboundEventSource<ManagedSecret>("kms-health");
    kmsHealth.onChange(
        aliases -> {
          java.util.stream.Stream<ManagedSecret> cached;
          try {
            cached = context.getPrimaryCache().list();
          } catch (RuntimeException notStarted) {
            // The first health round can finish before the informers start (JOSDK's cache is not
            // there yet); their initial listing reconciles every secret anyway.
            return;
          }
          cached
              .filter(secret -> keysUsedBy(secret, null).stream().anyMatch(aliases::contains))
              .forEach(secret -> kmsChanges.propagateEvent(ResourceID.fromResource(secret)));
        });
    // The schedules that target a secret say when it rotates next (status.nextRotationAt): this
    // controller copies it from their status, so no other controller writes ManagedSecret status.
    var schedules =
        InformerEventSourceConfiguration.from(RotationSchedule.class, ManagedSecret.class)
            .withName(SCHEDULES)
            .withWatchAllNamespaces()
            .withOnUpdateFilter((updated, old) -> !targets(updated).equals(targets(old)))
            .withSecondaryToPrimaryMapper(
                rs ->
                    targets(rs).keySet().stream()
                        .map(name -> new ResourceID(name, rs.getMetadata().getNamespace()))
                        .collect(java.util.stream.Collectors.toSet()))
            .build();
    return List.of(
        new InformerEventSource<>(ciphertext, context),
        new InformerEventSource<>(schedules, context),
        kmsChanges);
  }

  private static final String SCHEDULES = "schedules";

  /** A schedule's targets and when each rotates next. */
  private static java.util.Map<String, String> targets(RotationSchedule rs) {
    java.util.Map<String, String> next = new java.util.TreeMap<>();
    if (rs.getStatus() != null) {
      rs.getStatus()
          .getSecrets()
          .forEach(t -> next.put(t.getName(), String.valueOf(t.getNextRotationTime())));
    }
    return next;
  }

  /** The earliest next rotation any schedule targeting the secret has planned. */
  @SuppressWarnings("unchecked")
  private static String nextRotationAt(ManagedSecret secret, Context<ManagedSecret> context) {
    return ((InformerEventSource<RotationSchedule, ManagedSecret>)
            context.eventSourceRetriever().getEventSourceFor(RotationSchedule.class, SCHEDULES))
        .getSecondaryResources(secret).stream()
            .filter(rs -> rs.getStatus() != null)
            .flatMap(rs -> rs.getStatus().getSecrets().stream())
            .filter(t -> secret.getMetadata().getName().equals(t.getName()))
            .map(RotationScheduleStatus.TargetStatus::getNextRotationTime)
            .filter(java.util.Objects::nonNull)
            .min(java.util.Comparator.naturalOrder())
            .orElse(null);
  }

  /** The spec's key and every key a stored version is wrapped with. */
  private Set<String> keysUsedBy(ManagedSecret secret, KmsKey specKey) {
    Set<String> aliases = new java.util.TreeSet<>();
    if (specKey != null) {
      aliases.add(specKey.alias());
    } else {
      try {
        aliases.add(kmsKeys.resolve(secret.getSpec().getKmsKeyId()).alias());
      } catch (UnknownKmsKeyException e) {
        // reported by its own reconciliation
      }
    }
    if (secret.getStatus() != null) {
      secret.getStatus().getVersions().stream()
          .map(SecretVersion::getKmsKeyId)
          .filter(java.util.Objects::nonNull)
          .forEach(aliases::add);
    }
    return aliases;
  }

  @Override
  public UpdateControl<ManagedSecret> reconcile(
      ManagedSecret secret, Context<ManagedSecret> context) {
    try {
      return reconcileOnce(secret, context);
    } catch (RuntimeException e) {
      if (namespaceTerminating(e) || gone(e)) {
        // The namespace is being deleted, or the ManagedSecret went meanwhile: nothing to do.
        LOG.infof(
            "%s/%s: namespace being deleted or secret gone; nothing to reconcile",
            secret.getMetadata().getNamespace(), secret.getMetadata().getName());
        return UpdateControl.noUpdate();
      }
      if (Failure.of(e) != Failure.CONFLICT) {
        throw e;
      }
      // Another writer got there first (API, rotation, another replica): come back shortly, with
      // one log line instead of a stack trace per lost race.
      LOG.infof(
          "%s/%s: changed by another writer meanwhile; reconciling again",
          secret.getMetadata().getNamespace(), secret.getMetadata().getName());
      return UpdateControl.<ManagedSecret>noUpdate()
          .rescheduleAfter(
              Duration.ofMillis(
                  100 + java.util.concurrent.ThreadLocalRandom.current().nextInt(400)));
    }
  }

  private UpdateControl<ManagedSecret> reconcileOnce(
      ManagedSecret secret, Context<ManagedSecret> context) {
    KmsKey key = kmsKeys.resolve(secret.getSpec().getKmsKeyId());
    initialValue.validate(secret.getSpec());
    boolean needsFirst =
        secret.getStatus() == null || secret.getStatus().getCurrentVersionId() == null;
    if (needsFirst && restoreRequested(secret)) {
      secret = restore(secret);
      needsFirst = false;
    }
    FirstVersion first = needsFirst ? createFirstVersion(secret, context) : null;
    SecretVersion created = first == null ? null : first.version();
    secret = needsFirst ? secret : migrateKey(secret, key);
    // A key that fails its periodic check degrades the secret even when this reconciliation
    // needed no KMS call; the retry backoff and the health listener bring it back.
    kmsHealth.requireHealthy(keysUsedBy(secret, key));
    Set<Secret> records = cached(context, "ciphertext", secret);
    List<Degradation.Finding> checks = needsFirst ? List.of() : stageCheck.check(secret, records);
    boolean currentReadable =
        checks.stream().noneMatch(f -> f.message().startsWith(SecretVersion.CURRENT));
    List<Degradation.Finding> findings = new ArrayList<>(checks);
    findings.addAll(reconcileOwnedObjects(secret, context, first, currentReadable));
    Optional<Degradation.Finding> degraded =
        Degradation.derive(
            secret.getStatus() == null ? new ManagedSecretStatus() : secret.getStatus(), findings);

    int keep =
        secret.getSpec().getVersionsToKeep() == null ? 5 : secret.getSpec().getVersionsToKeep();
    Condition before = degradedCondition(secret);
    VersionLedger.Recorded recorded =
        ledger.reconciled(
            secret,
            context,
            new VersionLedger.Observation(
                created,
                keep,
                "; data keys wrapped by KMS key '" + key.alias() + "'",
                checks.stream()
                    .filter(f -> f.message().startsWith(SecretVersion.CURRENT))
                    .findFirst()
                    .map(f -> new VersionLedger.Degradation(f.reason(), f.message()))
                    .orElse(null),
                degradedCondition(degraded),
                nextRotationAt(secret, context),
                secret.getMetadata().getGeneration()));
    ManagedSecret stored = recorded.secret();
    deleted.recordLive(stored);
    for (String versionId : recorded.pruned()) {
      events.normal(
          secret,
          "VersionPruned",
          "removed deprecated version " + versionId + " beyond versionsToKeep=" + keep);
    }
    reportDegradation(stored, before, degraded);
    removeOrphans(stored, records);
    if (stored.getStatus().getRotation() != null || rotateNowRequested(stored)) {
      // A new CURRENT brings this secret back (ReconcileTrigger), and the copy follows then.
      rotations.resumeOrStartManual(stored);
    }
    return UpdateControl.noUpdate();
  }

  private static Condition degradedCondition(ManagedSecret secret) {
    return secret.getStatus() == null
        ? null
        : secret.getStatus().getConditions().stream()
            .filter(c -> ManagedSecretConditions.DEGRADED.equals(c.getType()))
            .findFirst()
            .orElse(null);
  }

  private static Condition degradedCondition(Optional<Degradation.Finding> finding) {
    return new io.fabric8.kubernetes.api.model.ConditionBuilder()
        .withType(ManagedSecretConditions.DEGRADED)
        .withStatus(finding.isPresent() ? "True" : "False")
        .withReason(
            finding.map(Degradation.Finding::reason).orElse(ManagedSecretConditions.HEALTHY))
        .withMessage(finding.map(Degradation.Finding::message).orElse("all checks passed"))
        .build();
  }

  /**
   * A secret that becomes degraded, or degraded for another reason, gets a Warning Event and one
   * log line; one that heals, a Normal Event. The gauge keywarden.managedsecrets.degraded counts
   * them by reason.
   */
  private void reportDegradation(
      ManagedSecret secret, Condition before, Optional<Degradation.Finding> now) {
    degradedSecrets.set(secret, now.map(Degradation.Finding::reason).orElse(null));
    boolean wasDegraded = before != null && "True".equals(before.getStatus());
    if (now.isPresent()) {
      Degradation.Finding finding = now.get();
      if (!wasDegraded
          || !finding.reason().equals(before.getReason())
          || !finding.message().equals(before.getMessage())) {
        events.warning(secret, finding.reason(), finding.message());
        LOG.warnf(
            "%s/%s: degraded: %s: %s",
            secret.getMetadata().getNamespace(),
            secret.getMetadata().getName(),
            finding.reason(),
            finding.message());
      }
    } else if (wasDegraded) {
      events.normal(secret, ManagedSecretConditions.HEALTHY, "all checks pass again");
      LOG.infof(
          "%s/%s: healthy again",
          secret.getMetadata().getNamespace(), secret.getMetadata().getName());
    }
  }

  /**
   * spec.kmsKeyId names another key than some stored versions were wrapped with: their data keys
   * move to it, in place; values and their ciphertext never change. A failure (say, the new key's
   * KMS is down) leaves each version readable under whichever key it is wrapped with, and the next
   * reconciliation continues where this one stopped.
   */
  private ManagedSecret migrateKey(ManagedSecret secret, KmsKey key) {
    if (secret.getStatus().getVersions().stream()
        .allMatch(v -> key.alias().equals(v.getKmsKeyId()))) {
      return secret;
    }
    EnvelopeRewrapper.Result result =
        rewrapper.rewrap(secret, key, envelope -> !envelope.kmsKeyId().equals(key.alias()));
    if (result.rewrapped() > 0) {
      String message =
          "re-wrapped the data keys of "
              + result.rewrapped()
              + " version(s) from KMS key "
              + String.join(", ", result.fromKeys().stream().map(k -> "'" + k + "'").toList())
              + " to '"
              + key.alias()
              + "' (spec.kmsKeyId); values unchanged";
      events.normal(result.secret(), "KmsKeyMigrated", message);
      LOG.infof(
          "%s/%s: %s",
          secret.getMetadata().getNamespace(), secret.getMetadata().getName(), message);
    }
    return result.secret();
  }

  private static final String RESTORE_FIELD =
      "metadata.annotations[" + ManagedSecret.RESTORE_ANNOTATION + "]";

  private static boolean restoreRequested(ManagedSecret secret) {
    var annotations = secret.getMetadata().getAnnotations();
    return annotations != null && annotations.containsKey(ManagedSecret.RESTORE_ANNOTATION);
  }

  /**
   * keywarden.io/restore on a secret without versions: the versions of the deleted ManagedSecret of
   * this namespace and name come back instead of a first value. The annotation only asks; which
   * deleted secret, and the binding its ciphertext is re-sealed from, come from the operator's own
   * record of that namespace and name, so no value of the annotation can point elsewhere.
   */
  private ManagedSecret restore(ManagedSecret secret) {
    String value = secret.getMetadata().getAnnotations().get(ManagedSecret.RESTORE_ANNOTATION);
    if (!"true".equals(value)) {
      throw new io.keywarden.operator.failure.InvalidSpecException(
          RESTORE_FIELD,
          "must be \"true\", not '"
              + value
              + "': a ManagedSecret is restored only from the deleted one of its own namespace"
              + " and name; restoring into another namespace or name is refused");
    }
    DeletedSecrets.Restored restored = deleted.restore(secret, RESTORE_FIELD);
    ManagedSecret stored = restored.secret();
    String current = stored.getStatus().getCurrentVersionId();
    String message =
        "restored "
            + stored.getStatus().getVersions().size()
            + " version(s) with their stages (CURRENT "
            + current
            + ") of the ManagedSecret deleted at "
            + restored.from().deletedAt()
            + " (uid "
            + restored.from().uid()
            + "), re-sealed for this object"
            + (restored.missing().isEmpty()
                ? ""
                : "; not restored, their ciphertext was gone: "
                    + String.join(", ", restored.missing()));
    events.normal(stored, ManagedSecretConditions.RESTORED, message);
    if (current == null) {
      throw new io.keywarden.operator.failure.InvalidSpecException(
          RESTORE_FIELD,
          "restored the deleted secret's versions, but its CURRENT version's ciphertext was gone;"
              + " put a new value or remove the annotation",
          ManagedSecretConditions.RECOVERY_NOT_FOUND);
    }
    return stored;
  }

  private static boolean rotateNowRequested(ManagedSecret secret) {
    var annotations = secret.getMetadata().getAnnotations();
    return annotations != null && annotations.containsKey(ManagedSecret.ROTATE_NOW_ANNOTATION);
  }

  /**
   * The Secrets an informer of this controller holds for the ManagedSecret: reading the cache
   * instead of listing keeps a rotation's reconciliations from costing LISTs on the apiserver.
   */
  @SuppressWarnings("unchecked")
  private static Set<Secret> cached(
      Context<ManagedSecret> context, String eventSource, ManagedSecret secret) {
    String uid = secret.getMetadata().getUid();
    // Records are mapped to their owner by namespace and name; those of an earlier object of the
    // same name (deleted, kept for its recovery window) are not this one's.
    return ((InformerEventSource<Secret, ManagedSecret>)
            context.eventSourceRetriever().getEventSourceFor(Secret.class, eventSource))
        .getSecondaryResources(secret).stream()
            .filter(
                r -> uid.equals(r.getMetadata().getLabels().get(CiphertextStore.LABEL_SECRET_UID)))
            .collect(java.util.stream.Collectors.toSet());
  }

  /** A first version just stored, and its value while this reconciliation needs it. */
  private record FirstVersion(SecretVersion version, SecretValue value) {}

  @SuppressWarnings("unchecked")
  private FirstVersion createFirstVersion(ManagedSecret secret, Context<ManagedSecret> context) {
    SecretValue value = initialValue.produce(secret);
    SecretVersion version;
    // Through the ciphertext informer: the record is in its cache for the next reconciliation, and
    // its watch event does not come back as one more reconciliation of this secret.
    var ciphertext =
        (InformerEventSource<Secret, ManagedSecret>)
            context.eventSourceRetriever().getEventSourceFor(Secret.class, "ciphertext");
    try {
      version =
          versions.store(
              secret, value, record -> context.resourceOperations().create(record, ciphertext));
    } catch (RuntimeException e) {
      value.wipe();
      throw e;
    }
    String source = secret.getSpec().getGenerate() != null ? "spec.generate" : "spec.fromSecret";
    events.normal(
        secret,
        "VersionCreated",
        "created version " + version.getVersionId() + " (CURRENT) from " + source);
    LOG.infof(
        "%s/%s: created version %s from %s",
        secret.getMetadata().getNamespace(),
        secret.getMetadata().getName(),
        version.getVersionId(),
        source);
    return new FirstVersion(version, value);
  }

  /**
   * Runs the workflow of owned objects (Roles, RoleBindings, the synced copy) and returns what they
   * found: objects of the same name that a user owns. The synced copy gets the CURRENT value,
   * decrypted here and wiped right after.
   */
  private List<Degradation.Finding> reconcileOwnedObjects(
      ManagedSecret secret,
      Context<ManagedSecret> context,
      FirstVersion first,
      boolean currentReadable) {
    var workflow = context.managedWorkflowAndDependentResourceContext();
    java.util.Queue<OwnershipConflict> conflicts = OwnedDependent.conflicts(context);
    SecretValue value = null;
    List<String> notCopied = List.of();
    try {
      if (secret.getSpec().getSyncToSecret() != null) {
        value =
            first != null
                ? first.value()
                : currentReadable
                    ? versions.read(secret, secret.getStatus().getCurrentVersionId())
                    : null;
        if (value != null) {
          SecretSync.Conversion conversion = sync.data(secret.getSpec().getSyncToSecret(), value);
          workflow.put(SyncedSecretDependent.DATA, conversion.data());
          notCopied = conversion.notCopied();
        }
      }
      Map<String, Exception> errors = new java.util.LinkedHashMap<>();
      try {
        WorkflowReconcileResult result = workflow.reconcileManagedWorkflow();
        result.getErroredDependents().forEach((dependent, e) -> errors.put(dependent.name(), e));
      } catch (AggregatedOperatorException aggregated) {
        errors.putAll(aggregated.getAggregatedExceptions());
      } catch (OperatorException wrapped) {
        if (!(wrapped.getCause() instanceof AggregatedOperatorException aggregated)) {
          throw wrapped;
        }
        errors.putAll(aggregated.getAggregatedExceptions());
      }
      for (var error : errors.entrySet()) {
        Exception e = error.getValue();
        if (KeywardenException.find(e) instanceof ConflictException) {
          continue; // reported below as a finding
        }
        if (namespaceTerminating(e)) {
          LOG.infof(
              "%s/%s: namespace is being deleted; not re-creating %s",
              secret.getMetadata().getNamespace(), secret.getMetadata().getName(), error.getKey());
          continue;
        }
        if (e instanceof RuntimeException runtime) {
          throw runtime;
        }
        throw new IllegalStateException(e);
      }
      if (workflow.get(SyncedSecretDependent.WRITTEN, Boolean.class).orElse(false)) {
        String copied =
            "copied CURRENT version "
                + (first != null
                    ? first.version().getVersionId()
                    : secret.getStatus().getCurrentVersionId())
                + " to Secret "
                + secret.getSpec().getSyncToSecret().getName();
        if (notCopied.isEmpty()) {
          events.normal(secret, "Synced", copied);
        } else {
          // Never "Synced" while part of the value is missing from the copy.
          events.warning(
              secret,
              "SyncIncomplete",
              copied
                  + " whole, but not these JSON fields as keys of their own: "
                  + String.join(", ", notCopied));
        }
      }
    } finally {
      if (value != null) {
        value.wipe();
      }
      if (first != null) {
        first.value().wipe();
      }
    }
    List<Degradation.Finding> findings = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (OwnershipConflict conflict : conflicts) {
      if (seen.add(conflict.kind() + "/" + conflict.name())) {
        findings.add(new Degradation.Finding(conflict.reason(), conflict.describe()));
      }
    }
    return findings;
  }

  private static boolean gone(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof io.fabric8.kubernetes.client.KubernetesClientException k
          && k.getCode() == 404
          && String.valueOf(k.getMessage()).toLowerCase().contains("managedsecret")) {
        return true;
      }
    }
    return false;
  }

  /** The apiserver refuses new objects in a namespace being deleted (403, "being terminated"). */
  static boolean namespaceTerminating(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof AggregatedOperatorException aggregated) {
        return aggregated.getAggregatedExceptions().values().stream()
            .allMatch(ManagedSecretReconciler::namespaceTerminating);
      }
      if (t instanceof io.fabric8.kubernetes.client.KubernetesClientException k
          && k.getCode() == 403
          && String.valueOf(k.getMessage()).contains("being terminated")) {
        return true;
      }
    }
    return false;
  }

  private void removeOrphans(ManagedSecret secret, Set<Secret> ciphertext) {
    ManagedSecretStatus status = secret.getStatus();
    Set<String> known = new java.util.HashSet<>();
    status.getVersions().forEach(v -> known.add(v.getVersionId()));
    Instant cutoff = Instant.now().minus(ORPHAN_GRACE);
    for (Secret stored : ciphertext) {
      String versionId =
          stored.getMetadata().getAnnotations().get(CiphertextStore.ANNOTATION_VERSION_ID);
      if (!known.contains(versionId)
          && Instant.parse(stored.getMetadata().getCreationTimestamp()).isBefore(cutoff)) {
        store.delete(secret.getMetadata().getUid(), versionId);
        LOG.infof(
            "%s/%s: removed orphaned ciphertext of version %s",
            secret.getMetadata().getNamespace(), secret.getMetadata().getName(), versionId);
      }
    }
  }

  @Override
  public ErrorStatusUpdateControl<ManagedSecret> updateErrorStatus(
      ManagedSecret secret, Context<ManagedSecret> context, Exception e) {
    ManagedSecretStatus status =
        secret.getStatus() == null ? new ManagedSecretStatus() : secret.getStatus();
    Long generation = secret.getMetadata().getGeneration();
    FailureConditions.Outcome outcome = FailureConditions.of(e);
    if (outcome.effect() == FailureConditions.Effect.RETRY) {
      LOG.infof(
          "%s/%s: will retry: %s",
          secret.getMetadata().getNamespace(),
          secret.getMetadata().getName(),
          String.valueOf(rootMessage(e)));
      return ErrorStatusUpdateControl.defaultErrorProcessing();
    }
    KeywardenException own = KeywardenException.find(e);
    String message = own != null ? own.getMessage() : String.valueOf(rootMessage(e));
    String previous = conditionMessage(status);
    ErrorStatusUpdateControl<ManagedSecret> control;
    if (outcome.effect() == FailureConditions.Effect.NOT_READY) {
      Conditions.set(
          status.getConditions(),
          ManagedSecretConditions.READY,
          false,
          outcome.reason(),
          message,
          generation);
      control =
          ErrorStatusUpdateControl.<ManagedSecret>noStatusUpdate()
              .withNoRetry()
              .rescheduleAfter(RECHECK_INVALID);
    } else {
      if (own == null) {
        LOG.errorf(
            e,
            "%s/%s: reconciliation failed",
            secret.getMetadata().getNamespace(),
            secret.getMetadata().getName());
      }
      degrade(status, outcome.reason(), message, generation);
      control = ErrorStatusUpdateControl.defaultErrorProcessing();
    }
    status.setObservedGeneration(generation);
    try {
      ledger.failed(secret, List.copyOf(status.getConditions()), generation);
    } catch (RuntimeException writeFailed) {
      LOG.warnf(
          "%s/%s: cannot record the error in the status: %s",
          secret.getMetadata().getNamespace(),
          secret.getMetadata().getName(),
          writeFailed.getMessage());
    }
    String now = conditionMessage(status);
    if (!now.equals(previous)) {
      events.warning(secret, reasonOf(status), now);
      LOG.warnf(
          "%s/%s: %s", secret.getMetadata().getNamespace(), secret.getMetadata().getName(), now);
    }
    return control;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  /**
   * The value stays where it is: Degraded says we cannot serve it right now, Ready goes False only
   * without a version.
   */
  private static void degrade(
      ManagedSecretStatus status, String reason, String message, Long generation) {
    Conditions.set(
        status.getConditions(),
        ManagedSecretConditions.DEGRADED,
        true,
        reason,
        message,
        generation);
    if (status.getCurrentVersionId() == null) {
      Conditions.set(
          status.getConditions(),
          ManagedSecretConditions.READY,
          false,
          reason,
          message,
          generation);
    }
  }

  private static String conditionMessage(ManagedSecretStatus status) {
    return status.getConditions().stream()
        .filter(
            c ->
                ("Ready".equals(c.getType()) && "False".equals(c.getStatus()))
                    || ("Degraded".equals(c.getType()) && "True".equals(c.getStatus())))
        .map(c -> c.getReason() + ": " + c.getMessage())
        .sorted()
        .findFirst()
        .orElse("");
  }

  private static String reasonOf(ManagedSecretStatus status) {
    String message = conditionMessage(status);
    return message.isEmpty() ? "Error" : message.substring(0, message.indexOf(':'));
  }

  /**
   * The ManagedSecret, or its namespace, is being deleted. With a recovery window its versions are
   * kept (in the operator namespace, out of tenants' reach) until the purge time, which derives
   * from the deletion timestamp and is written into the record's metadata, so a restart or a new
   * leader computes and finds the same; with a window of 0, or nothing stored, they go now.
   */
  @Override
  public DeleteControl cleanup(ManagedSecret secret, Context<ManagedSecret> context) {
    degradedSecrets.set(secret, null);
    int days = recoveryWindowDays(secret);
    boolean stored = secret.getStatus() != null && !secret.getStatus().getVersions().isEmpty();
    String ns = secret.getMetadata().getNamespace();
    String name = secret.getMetadata().getName();
    if (days == 0 || !stored) {
      store.deleteAll(secret.getMetadata().getUid());
      deleted.forget(secret.getMetadata().getUid());
      LOG.infof("%s/%s: deleted; removed its ciphertext (no recovery window)", ns, name);
      return DeleteControl.defaultDelete();
    }
    Instant deletedAt =
        secret.getMetadata().getDeletionTimestamp() == null
            ? Instant.now()
            : Instant.parse(secret.getMetadata().getDeletionTimestamp());
    Instant purgeAt = deleted.purgeAt(deletedAt, days);
    deleted.retain(secret, deletedAt, purgeAt);
    String message =
        "deleted; its "
            + secret.getStatus().getVersions().size()
            + " version(s) are kept until "
            + purgeAt
            + " (recovery window "
            + days
            + " days), then purged; restore them by creating ManagedSecret "
            + ns
            + "/"
            + name
            + " again with the annotation "
            + ManagedSecret.RESTORE_ANNOTATION
            + "=true";
    events.normal(secret, ManagedSecretConditions.DELETION_SCHEDULED, message);
    // The tenant's namespace may be going away with its Events; the operator namespace keeps one.
    events.normal(
        new io.fabric8.kubernetes.api.model.SecretBuilder()
            .withNewMetadata()
            .withName(DeletedSecrets.recordName(secret.getMetadata().getUid()))
            .withNamespace(store.namespace())
            .endMetadata()
            .build(),
        ManagedSecretConditions.DELETION_SCHEDULED,
        ns + "/" + name + " " + message);
    LOG.infof("%s/%s: %s", ns, name, message);
    return DeleteControl.defaultDelete();
  }

  /** The API's DeleteSecret names the window of its deletion; otherwise the spec's applies. */
  private static int recoveryWindowDays(ManagedSecret secret) {
    var annotations = secret.getMetadata().getAnnotations();
    String requested =
        annotations == null ? null : annotations.get(ManagedSecret.DELETION_WINDOW_ANNOTATION);
    if (requested != null) {
      try {
        int days = Integer.parseInt(requested);
        if (days == 0 || (days >= 7 && days <= 30)) {
          return days;
        }
      } catch (NumberFormatException e) {
        // not the API's: the spec's window applies
      }
    }
    return secret.getSpec().recoveryWindowDays();
  }
}
