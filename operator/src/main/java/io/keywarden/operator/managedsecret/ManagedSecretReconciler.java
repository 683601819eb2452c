package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.crypto.CorruptEnvelopeException;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.EnvelopeCipher;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.kms.KmsException;
import io.keywarden.operator.kms.KmsKey;
import io.keywarden.operator.kms.KmsKeys;
import io.keywarden.operator.kms.UnknownKmsKeyException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Keeps a ManagedSecret's versions: creates the first one from spec, stores only envelopes,
 * prunes deprecated versions beyond versionsToKeep, syncs the opt-in core Secret, and reports
 * it all in the status, written once per reconciliation.
 */
@ControllerConfiguration(name = "managedsecret", finalizerName = Names.FINALIZER)
public class ManagedSecretReconciler implements Reconciler<ManagedSecret>, Cleaner<ManagedSecret> {

  private static final Logger LOG = Logger.getLogger(ManagedSecretReconciler.class);
  /** A ciphertext Secret not (yet) in the status is an orphan only after this long: the status write may be in flight. */
  private static final Duration ORPHAN_GRACE = Duration.ofMinutes(2);
  private static final Duration RECHECK_INVALID = Duration.ofSeconds(30);

  private final KmsKeys kmsKeys;
  private final EnvelopeCipher cipher;
  private final CiphertextStore store;
  private final InitialValue initialValue;
  private final SecretSync sync;
  private final EventRecorder events;

  public ManagedSecretReconciler(KmsKeys kmsKeys, EnvelopeCipher cipher, CiphertextStore store, InitialValue initialValue,
      SecretSync sync, EventRecorder events) {
    this.kmsKeys = kmsKeys;
    this.cipher = cipher;
    this.store = store;
    this.initialValue = initialValue;
    this.sync = sync;
    this.events = events;
  }

  @Override
  public List<EventSource<?, ManagedSecret>> prepareEventSources(EventSourceContext<ManagedSecret> context) {
    // Changes to the ciphertext (deleted, altered) bring the owner back for a check.
    var ciphertext = InformerEventSourceConfiguration.from(Secret.class, ManagedSecret.class)
        .withName("ciphertext")
        .withNamespaces(Set.of(store.namespace()))
        .withLabelSelector(Names.LABEL_SECRET_UID)
        .withSecondaryToPrimaryMapper(s -> Set.of(new ResourceID(
            s.getMetadata().getAnnotations().get(Names.ANNOTATION_SECRET_NAME),
            s.getMetadata().getLabels().get(Names.LABEL_SECRET_NAMESPACE))))
        .build();
    return List.of(new InformerEventSource<>(ciphertext, context));
  }

  @Override
  public UpdateControl<ManagedSecret> reconcile(ManagedSecret secret, Context<ManagedSecret> context) {
    ManagedSecretStatus status = secret.getStatus() == null ? new ManagedSecretStatus() : secret.getStatus();
    KmsKey key = kmsKeys.resolve(secret.getSpec().getKmsKeyId());
    initialValue.validate(secret.getSpec());

    if (status.getCurrentVersionId() == null) {
      createFirstVersion(secret, status, key);
    }
    int keep = secret.getSpec().getVersionsToKeep() == null ? 5 : secret.getSpec().getVersionsToKeep();
    for (String pruned : VersionPruner.prune(status, keep)) {
      store.delete(secret.getMetadata().getUid(), pruned);
      events.normal(secret, "VersionPruned", "removed deprecated version " + pruned + " beyond versionsToKeep=" + keep);
    }
    removeOrphans(secret, status);

    if (secret.getSpec().getSyncToSecret() != null || sync.hasTargets(secret)) {
      SecretValue current = read(secret, status.getCurrentVersionId());
      try {
        if (sync.apply(secret, current)) {
          events.normal(secret, "Synced", "copied CURRENT version " + status.getCurrentVersionId() + " to Secret "
              + secret.getSpec().getSyncToSecret().getName());
        }
      } finally {
        current.wipe();
      }
    }

    Long generation = secret.getMetadata().getGeneration();
    Conditions.set(status.getConditions(), Names.CONDITION_READY, true, "VersionAvailable",
        "CURRENT is version " + status.getCurrentVersionId(), generation);
    Conditions.set(status.getConditions(), Names.CONDITION_DEGRADED, false, "Healthy", "all checks passed", generation);
    status.setObservedGeneration(generation);
    secret.setStatus(status);
    return UpdateControl.patchStatus(secret);
  }

  private void createFirstVersion(ManagedSecret secret, ManagedSecretStatus status, KmsKey key) {
    SecretValue value = initialValue.produce(secret);
    String versionId = UUID.randomUUID().toString();
    try {
      Envelope envelope = cipher.seal(key, CiphertextStore.context(secret, versionId), value);
      store.put(secret, versionId, envelope);
      status.getVersions().add(0, new SecretVersion(versionId, List.of(Names.STAGE_CURRENT), now(), key.alias(),
          envelope.keyVersion()));
      status.setCurrentVersionId(versionId);
    } finally {
      value.wipe();
    }
    String source = secret.getSpec().getGenerate() != null ? "spec.generate" : "spec.fromSecret";
    events.normal(secret, "VersionCreated", "created version " + versionId + " (CURRENT) from " + source);
    LOG.infof("%s/%s: created version %s from %s", secret.getMetadata().getNamespace(), secret.getMetadata().getName(),
        versionId, source);
  }

  /** Decrypts a version; a missing or altered envelope is an error that names the version. */
  SecretValue read(ManagedSecret secret, String versionId) {
    Envelope envelope = store.get(secret, versionId).orElseThrow(() -> new CorruptEnvelopeException(
        "ciphertext of version " + versionId + " is missing from namespace " + store.namespace()));
    try {
      return cipher.unseal(envelope, CiphertextStore.context(secret, versionId));
    } catch (CorruptEnvelopeException e) {
      throw new CorruptEnvelopeException("version " + versionId + ": " + e.getMessage(), e);
    }
  }

  private void removeOrphans(ManagedSecret secret, ManagedSecretStatus status) {
    Set<String> known = new java.util.HashSet<>();
    status.getVersions().forEach(v -> known.add(v.getVersionId()));
    Instant cutoff = Instant.now().minus(ORPHAN_GRACE);
    for (Secret stored : store.list(secret.getMetadata().getUid())) {
      String versionId = stored.getMetadata().getAnnotations().get(Names.ANNOTATION_VERSION_ID);
      if (!known.contains(versionId) && Instant.parse(stored.getMetadata().getCreationTimestamp()).isBefore(cutoff)) {
        store.delete(secret.getMetadata().getUid(), versionId);
        LOG.infof("%s/%s: removed orphaned ciphertext of version %s", secret.getMetadata().getNamespace(),
            secret.getMetadata().getName(), versionId);
      }
    }
  }

  @Override
  public ErrorStatusUpdateControl<ManagedSecret> updateErrorStatus(ManagedSecret secret, Context<ManagedSecret> context,
      Exception e) {
    ManagedSecretStatus status = secret.getStatus() == null ? new ManagedSecretStatus() : secret.getStatus();
    Long generation = secret.getMetadata().getGeneration();
    Throwable cause = e instanceof RuntimeException && e.getCause() != null && !(e instanceof KmsException)
        && !(e instanceof InvalidSpecException) && !(e instanceof CorruptEnvelopeException) ? unwrap(e) : e;
    String previous = conditionMessage(status);
    ErrorStatusUpdateControl<ManagedSecret> control;
    if (cause instanceof InvalidSpecException invalid) {
      Conditions.set(status.getConditions(), Names.CONDITION_READY, false, invalid.reason(), invalid.getMessage(), generation);
      control = ErrorStatusUpdateControl.patchStatus(secret).withNoRetry().rescheduleAfter(RECHECK_INVALID);
    } else if (cause instanceof UnknownKmsKeyException unknown) {
      Conditions.set(status.getConditions(), Names.CONDITION_READY, false, "UnknownKmsKey", unknown.getMessage(), generation);
      control = ErrorStatusUpdateControl.patchStatus(secret).withNoRetry().rescheduleAfter(RECHECK_INVALID);
    } else if (cause instanceof KmsException kms) {
      degrade(status, kms.reason(), kms.getMessage(), generation);
      control = ErrorStatusUpdateControl.patchStatus(secret);
    } else if (cause instanceof CorruptEnvelopeException corrupt) {
      degrade(status, "DecryptionFailed", corrupt.getMessage(), generation);
      control = ErrorStatusUpdateControl.patchStatus(secret);
    } else {
      degrade(status, "ReconcileError", String.valueOf(cause.getMessage()), generation);
      control = ErrorStatusUpdateControl.patchStatus(secret);
    }
    status.setObservedGeneration(generation);
    secret.setStatus(status);
    String message = conditionMessage(status);
    if (!message.equals(previous)) {
      events.warning(secret, reasonOf(status), message);
      LOG.warnf("%s/%s: %s", secret.getMetadata().getNamespace(), secret.getMetadata().getName(), message);
    }
    return control;
  }

  private static Throwable unwrap(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t != t.getCause() && !(t instanceof InvalidSpecException) && !(t instanceof KmsException)
        && !(t instanceof CorruptEnvelopeException) && !(t instanceof UnknownKmsKeyException)) {
      t = t.getCause();
    }
    return t;
  }

  /** The value stays where it is: Degraded says we cannot serve it right now, Ready goes False only without a version. */
  private static void degrade(ManagedSecretStatus status, String reason, String message, Long generation) {
    Conditions.set(status.getConditions(), Names.CONDITION_DEGRADED, true, reason, message, generation);
    if (status.getCurrentVersionId() == null) {
      Conditions.set(status.getConditions(), Names.CONDITION_READY, false, reason, message, generation);
    }
  }

  private static String conditionMessage(ManagedSecretStatus status) {
    return status.getConditions().stream()
        .filter(c -> ("Ready".equals(c.getType()) && "False".equals(c.getStatus()))
            || ("Degraded".equals(c.getType()) && "True".equals(c.getStatus())))
        .map(c -> c.getReason() + ": " + c.getMessage()).sorted().findFirst().orElse("");
  }

  private static String reasonOf(ManagedSecretStatus status) {
    String message = conditionMessage(status);
    return message.isEmpty() ? "Error" : message.substring(0, message.indexOf(':'));
  }

  @Override
  public DeleteControl cleanup(ManagedSecret secret, Context<ManagedSecret> context) {
    store.deleteAll(secret.getMetadata().getUid());
    LOG.infof("%s/%s: deleted; removed its ciphertext", secret.getMetadata().getNamespace(), secret.getMetadata().getName());
    return DeleteControl.defaultDelete();
  }

  static String now() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
