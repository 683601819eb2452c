package io.keywarden.operator.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;

/**
 * An informer's store that keeps objects without {@code metadata.managedFields}. The server-side
 * apply bookkeeping is a tree of maps per field manager, larger in memory than the rest of a
 * ciphertext record or a ManagedSecret, and nothing that reads these caches looks at it: a write
 * that sends an object without it leaves the stored managedFields as they are. Not for the caches
 * of objects written with server-side apply and matched against their managed fields (the owned
 * Roles, RoleBindings and synced Secrets), and one store per informer: an informer's relist removes
 * from its store whatever that informer did not list.
 */
public class WithoutManagedFields<T extends HasMetadata> extends BasicItemStore<T> {

  public WithoutManagedFields() {
    super(Cache::metaNamespaceKeyFunc);
  }

  @Override
  public T put(String key, T obj) {
    obj.getMetadata().setManagedFields(null);
    return super.put(key, obj);
  }
}
