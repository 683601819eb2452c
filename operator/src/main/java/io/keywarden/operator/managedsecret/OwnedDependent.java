package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.CRUDKubernetesBulkDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.KubernetesBulkDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.api.v1alpha1.ManagedSecret;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;

/**
 * The objects of one kind a ManagedSecret owns, as a JOSDK bulk dependent resource: created,
 * updated and pruned by the workflow, and put back on the informer event when someone deletes or
 * edits one. An object of the same name that someone else owns is never touched: it is left out of
 * the desired set (so no server-side apply forces over it, no owner reference is added, and our
 * deletion never collects it) and reported as an {@link OwnershipConflict}.
 */
abstract class OwnedDependent<R extends HasMetadata>
    extends KubernetesDependentResource<R, ManagedSecret>
    implements CRUDKubernetesBulkDependentResource<R, ManagedSecret>,
        KubernetesBulkDependentResource<R, ManagedSecret> {

  /** Where a reconciliation collects the conflicts its dependents find (workflow context key). */
  static final String CONFLICTS = "keywarden.conflicts";

  private final String conflictReason;

  OwnedDependent(Class<R> type, String conflictReason) {
    super(type);
    this.conflictReason = conflictReason;
  }

  /** What this ManagedSecret should own, by object name. */
  abstract Map<String, R> desiredByName(ManagedSecret primary, Context<ManagedSecret> context);

  @Override
  public Map<ResourceID, R> desiredResources(
      ManagedSecret primary, Context<ManagedSecret> context) {
    Map<ResourceID, R> desired = new LinkedHashMap<>();
    desiredByName(primary, context)
        .forEach(
            (name, object) -> {
              // Owned by this ManagedSecret, so garbage collection removes it with it. Whether a
              // user owns an object of this name is found out when creating it (below), not asked
              // beforehand: the informer holds our objects, so a create is tried only for one we
              // do not have yet, and a GET per new object would double its cost.
              object
                  .getMetadata()
                  .setOwnerReferences(new java.util.ArrayList<>(List.of(ownerReference(primary))));
              desired.put(new ResourceID(name, primary.getMetadata().getNamespace()), object);
            });
    return desired;
  }

  private static OwnerReference ownerReference(ManagedSecret owner) {
    return new OwnerReferenceBuilder()
        .withApiVersion(KeywardenApi.API_VERSION)
        .withKind("ManagedSecret")
        .withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(false)
        .build();
  }

  static boolean ownedBy(HasMetadata object, ManagedSecret owner) {
    return object.getMetadata().getOwnerReferences().stream()
        .anyMatch(r -> owner.getMetadata().getUid().equals(r.getUid()));
  }

  @Override
  public Map<ResourceID, R> getSecondaryResources(
      ManagedSecret primary, Context<ManagedSecret> context) {
    Collection<R> secondaries =
        eventSource().map(es -> es.getSecondaryResources(primary)).orElse(java.util.Set.of());
    return secondaries.stream()
        .filter(r -> ownedBy(r, primary))
        .collect(Collectors.toMap(ResourceID::fromResource, r -> r, (a, b) -> a));
  }

  /**
   * A plain create, never a forced apply: if an object of the name exists and is not ours (a
   * user's, or created since we looked), the apiserver refuses (409), the conflict is reported and
   * nothing of theirs is touched or cached as ours; the other objects of this kind are still
   * created. One that turns out to be ours (our informer had not seen it yet) is taken as it is:
   * its watch event brings this secret back to bring it up to date. Our own create is not echoed
   * back as an event.
   */
  @Override
  public R create(R desired, ManagedSecret primary, Context<ManagedSecret> context) {
    desired.getMetadata().setResourceVersion(null);
    // What JOSDK's own create adds: its bookkeeping annotation (the owner reference is desired).
    addMetadata(false, null, desired, primary, context);
    try {
      return context.resourceOperations().create(desired, eventSource().orElse(null));
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      R existing = context.getClient().resource(desired).get();
      if (existing == null) {
        throw e; // deleted again meanwhile: the next reconciliation creates it
      }
      if (!ownedBy(existing, primary)) {
        conflicts(context)
            .add(
                new OwnershipConflict(
                    desired.getKind(),
                    desired.getMetadata().getNamespace(),
                    desired.getMetadata().getName(),
                    conflictReason));
      }
      return existing;
    }
  }

  /** Only our own objects go into the informer's cache; a user's object of the name never does. */
  @Override
  protected void onCreated(ManagedSecret primary, R created, Context<ManagedSecret> context) {
    if (ownedBy(created, primary)) {
      super.onCreated(primary, created, context);
    }
  }

  /** Labels every object the operator owns carries. */
  static Map<String, String> managedBy(Map<String, String> more) {
    Map<String, String> labels = new LinkedHashMap<>(more);
    labels.put(KeywardenApi.MANAGED_BY_LABEL, KeywardenApi.OPERATOR);
    return labels;
  }

  @SuppressWarnings("unchecked")
  static Queue<OwnershipConflict> conflicts(Context<ManagedSecret> context) {
    var workflow = context.managedWorkflowAndDependentResourceContext();
    synchronized (workflow) {
      Queue<OwnershipConflict> queue = workflow.get(CONFLICTS, Queue.class).orElse(null);
      if (queue == null) {
        queue = new ConcurrentLinkedQueue<>();
        workflow.put(CONFLICTS, queue);
      }
      return queue;
    }
  }
}
