package io.keywarden.operator.access;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.keywarden.operator.kube.WithoutManagedFields;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Tells the decision cache when RBAC changed, so that decisions can be kept for minutes and still
 * stop working within the watch's delay when a Role or binding is removed: a change to a Role or
 * RoleBinding invalidates the decisions of its namespace (the only namespace it grants in), a
 * change to a ClusterRole or ClusterRoleBinding all of them (a RoleBinding may refer to a
 * ClusterRole). Authorization is RBAC alone (DESIGN.md), so nothing else changes a decision; the
 * caller's groups are part of the decision's key.
 *
 * <p>{@link #live()} is false until all four watches have listed, and again whenever one of them is
 * disconnected or refused (e.g. the operator may not list ClusterRoles): decisions are then kept
 * only for {@code keywarden.api.decision-cache-ttl}, as without the watch.
 */
final class RbacWatch implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(RbacWatch.class);

  /** What changed: a namespace's Roles or bindings, or something cluster-wide (null). */
  interface Listener {
    void changed(String namespaceOrNullForAll);
  }

  private final List<SharedIndexInformer<? extends HasMetadata>> informers;

  RbacWatch(KubernetesClient client, Listener listener) {
    var rbac = client.rbac();
    this.informers =
        List.of(
            watch(rbac.roles().inAnyNamespace().runnableInformer(0), listener, true),
            watch(rbac.roleBindings().inAnyNamespace().runnableInformer(0), listener, true),
            watch(rbac.clusterRoles().runnableInformer(0), listener, false),
            watch(rbac.clusterRoleBindings().runnableInformer(0), listener, false));
    for (SharedIndexInformer<? extends HasMetadata> informer : informers) {
      informer
          .start()
          .whenComplete(
              (ok, failed) -> {
                if (failed != null) {
                  LOG.warnf(
                      "not watching %s (%s): authorization decisions are cached for"
                          + " keywarden.api.decision-cache-ttl only",
                      informer.getApiTypeClass().getSimpleName(), failed.getMessage());
                  listener.changed(null);
                }
              });
    }
  }

  private static <T extends HasMetadata> SharedIndexInformer<T> watch(
      SharedIndexInformer<T> informer, Listener listener, boolean namespaced) {
    Consumer<T> changed =
        object -> listener.changed(namespaced ? object.getMetadata().getNamespace() : null);
    informer
        .itemStore(new WithoutManagedFields<>())
        // A lost watch may have missed changes: forget every decision; the informer retries.
        .exceptionHandler(
            (started, error) -> {
              listener.changed(null);
              return started;
            })
        .addEventHandler(
            new ResourceEventHandler<T>() {
              @Override
              public void onAdd(T object) {
                changed.accept(object);
              }

              @Override
              public void onUpdate(T before, T after) {
                if (!grants(before).equals(grants(after))) {
                  changed.accept(after);
                }
              }

              @Override
              public void onDelete(T object, boolean unknownFinalState) {
                changed.accept(object);
              }
            });
    return informer;
  }

  /**
   * What an RBAC object contributes to authorization: a role's rules (an aggregated ClusterRole's
   * too, which the controller writes into its rules), a binding's role and subjects. A change to
   * anything else (labels, annotations, owner references, managedFields: e.g. the first server-side
   * apply over an object that was created with a plain create, or a GitOps tool's tracking label)
   * decides nothing, and forgetting every decision of a namespace for it made every pod watching a
   * secret there ask again at the next rotation.
   */
  static Object grants(HasMetadata object) {
    if (object instanceof Role role) {
      return Objects.requireNonNullElse(role.getRules(), List.of());
    }
    if (object instanceof ClusterRole role) {
      return Objects.requireNonNullElse(role.getRules(), List.of());
    }
    if (object instanceof RoleBinding binding) {
      return List.of(
          Objects.requireNonNullElse((Object) binding.getRoleRef(), ""),
          Objects.requireNonNullElse(binding.getSubjects(), List.of()));
    }
    if (object instanceof ClusterRoleBinding binding) {
      return List.of(
          Objects.requireNonNullElse((Object) binding.getRoleRef(), ""),
          Objects.requireNonNullElse(binding.getSubjects(), List.of()));
    }
    // Not an RBAC kind: every version counts as a change.
    return Objects.requireNonNullElse(object.getMetadata().getResourceVersion(), "");
  }

  /** Whether every RBAC change is being seen now. */
  boolean live() {
    for (SharedIndexInformer<? extends HasMetadata> informer : informers) {
      if (!informer.hasSynced() || !informer.isWatching()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }
}
