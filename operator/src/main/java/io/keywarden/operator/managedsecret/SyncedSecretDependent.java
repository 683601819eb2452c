package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.BooleanWithUndefined;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.SyncToSecretSpec;
import java.util.Map;
import java.util.Objects;

/**
 * The opt-in copy of spec.syncToSecret: a core Secret holding the CURRENT plaintext. The
 * reconciliation decrypts CURRENT and hands the data over in the workflow context; without it (the
 * value cannot be read right now) the copy stays as it is. A copy no longer named is removed.
 */
// Plain updates, not server-side apply: the operator may not patch Secrets outside its namespace.
@KubernetesDependent(
    useSSA = BooleanWithUndefined.FALSE,
    informer = @Informer(labelSelector = SecretSync.LABEL_SYNCED_FROM))
public class SyncedSecretDependent extends OwnedDependent<Secret> {

  /** Workflow context key: the data to write, base64 per key. */
  static final String DATA = "keywarden.syncData";

  /** Workflow context key, set when the copy was written in this reconciliation. */
  static final String WRITTEN = "keywarden.synced";

  public SyncedSecretDependent() {
    super(Secret.class, ManagedSecretConditions.SYNC_TARGET_CONFLICT);
  }

  @Override
  @SuppressWarnings("unchecked")
  Map<String, Secret> desiredByName(ManagedSecret primary, Context<ManagedSecret> context) {
    SyncToSecretSpec spec = primary.getSpec().getSyncToSecret();
    if (spec == null) {
      return Map.of();
    }
    var data = context.managedWorkflowAndDependentResourceContext().get(DATA, Map.class);
    if (data.isEmpty()) {
      // CURRENT cannot be read now: keep what is there rather than remove or blank it.
      return getSecondaryResources(primary, context).values().stream()
          .filter(s -> s.getMetadata().getName().equals(spec.getName()))
          .collect(java.util.stream.Collectors.toMap(s -> s.getMetadata().getName(), s -> s));
    }
    return Map.of(
        spec.getName(),
        new SecretBuilder()
            .withNewMetadata()
            .withName(spec.getName())
            .withNamespace(primary.getMetadata().getNamespace())
            .withLabels(
                OwnedDependent.managedBy(
                    Map.of(SecretSync.LABEL_SYNCED_FROM, primary.getMetadata().getName())))
            .endMetadata()
            .withType("Opaque")
            .withData((Map<String, String>) data.get())
            .build());
  }

  @Override
  public Secret create(Secret desired, ManagedSecret primary, Context<ManagedSecret> context) {
    Secret created = super.create(desired, primary, context);
    // Not a user's Secret of the name (a conflict), nor an older copy of ours found in its place.
    if (ownedBy(created, primary) && Objects.equals(created.getData(), desired.getData())) {
      context.managedWorkflowAndDependentResourceContext().put(WRITTEN, Boolean.TRUE);
    }
    return created;
  }

  @Override
  public Secret update(
      Secret actual, Secret desired, ManagedSecret primary, Context<ManagedSecret> context) {
    Secret updated = super.update(actual, desired, primary, context);
    context.managedWorkflowAndDependentResourceContext().put(WRITTEN, Boolean.TRUE);
    return updated;
  }
}
