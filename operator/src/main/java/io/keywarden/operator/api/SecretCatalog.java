package io.keywarden.operator.api;

import com.github.benmanes.caffeine.cache.Cache;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.operator.config.Caches;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.kube.WithoutManagedFields;
import io.keywarden.operator.versions.CiphertextStore;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What every API replica serves from memory: ManagedSecrets of all namespaces and the ciphertext
 * Secrets of the operator namespace, kept current by watches, so a read costs no apiserver call.
 */
public final class SecretCatalog implements AutoCloseable {

  private final SharedIndexInformer<ManagedSecret> secrets;
  private final SharedIndexInformer<Secret> ciphertext;
  private final CiphertextStore store;
  // Envelopes decoded from the watch cache's records, by record instance (weak keys compare by
  // identity): a changed record is a new instance, so an entry can never be stale, and a record the
  // watch dropped takes its entry with it. Saves a base64 decode and a parse per cached read.
  private final Cache<Secret, Envelope> decoded =
      Caches.onCallingThread().weakKeys().maximumSize(10_000).build();

  public SecretCatalog(
      KubernetesClient client, CiphertextStore store, Consumer<ManagedSecret> onCurrentChanged) {
    this.store = store;
    // Without managedFields: most of an object's memory in these caches, and never read here.
    this.secrets = client.resources(ManagedSecret.class).inAnyNamespace().runnableInformer(0);
    this.secrets
        .itemStore(new WithoutManagedFields<>())
        .addEventHandler(
            new ResourceEventHandler<>() {
              @Override
              public void onAdd(ManagedSecret secret) {
                onCurrentChanged.accept(secret);
              }

              @Override
              public void onUpdate(ManagedSecret before, ManagedSecret after) {
                if (!Objects.equals(current(before), current(after))) {
                  onCurrentChanged.accept(after);
                }
              }

              @Override
              public void onDelete(ManagedSecret secret, boolean unknownFinalState) {
                onCurrentChanged.accept(secret);
              }
            });
    this.secrets.run();
    this.ciphertext =
        client
            .secrets()
            .inNamespace(store.namespace())
            .withLabel(CiphertextStore.LABEL_SECRET_UID)
            .runnableInformer(0);
    this.ciphertext.itemStore(new WithoutManagedFields<>()).run();
  }

  private static String current(ManagedSecret secret) {
    return secret.getStatus() == null ? null : secret.getStatus().getCurrentVersionId();
  }

  public Optional<ManagedSecret> find(String namespace, String name) {
    return Optional.ofNullable(secrets.getIndexer().getByKey(namespace + "/" + name));
  }

  /**
   * Waits until the watch has delivered {@code written}, a state of a ManagedSecret this replica
   * just wrote, or a later one, for at most {@code timeout}: a read that follows a write on the
   * same replica then sees the write (PutSecretValue, then GetSecretValue). Resource versions are
   * compared as numbers, which they are in etcd, and otherwise only for equality.
   */
  public void awaitWritten(ManagedSecret written, Duration timeout) {
    String key = written.getMetadata().getNamespace() + "/" + written.getMetadata().getName();
    String target = written.getMetadata().getResourceVersion();
    long deadline = System.nanoTime() + timeout.toNanos();
    long pauseMillis = 1;
    while (!reached(secrets.getIndexer().getByKey(key), target) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(pauseMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      pauseMillis = Math.min(pauseMillis * 2, 20);
    }
  }

  private static boolean reached(ManagedSecret cached, String target) {
    if (cached == null || target == null) {
      return cached != null;
    }
    String seen = cached.getMetadata().getResourceVersion();
    if (target.equals(seen)) {
      return true;
    }
    try {
      return Long.parseLong(seen) > Long.parseLong(target);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** Every ManagedSecret of every namespace, as the watch last saw them. */
  public java.util.List<ManagedSecret> all() {
    return secrets.getIndexer().list();
  }

  /**
   * The envelope of a version: from the watch cache, or straight from the apiserver when the watch
   * lags behind a write.
   */
  public Optional<Envelope> envelope(ManagedSecret secret, String versionId) {
    Optional<Envelope> cached = cachedEnvelope(secret, versionId);
    return cached.isPresent() ? cached : store.get(secret, versionId);
  }

  /** The envelope of a version from the watch cache only; never blocks. */
  public Optional<Envelope> cachedEnvelope(ManagedSecret secret, String versionId) {
    String name = CiphertextStore.objectName(secret.getMetadata().getUid(), versionId);
    Secret cached = ciphertext.getIndexer().getByKey(store.namespace() + "/" + name);
    if (cached != null
        && cached.getData() != null
        && cached.getData().containsKey(CiphertextStore.ENVELOPE_KEY)) {
      return Optional.of(decoded.get(cached, SecretCatalog::decode));
    }
    return Optional.empty();
  }

  private static Envelope decode(Secret record) {
    return Envelope.decode(
        Base64.getDecoder().decode(record.getData().get(CiphertextStore.ENVELOPE_KEY)));
  }

  public boolean synced() {
    return secrets.hasSynced() && ciphertext.hasSynced();
  }

  @Override
  public void close() {
    secrets.close();
    ciphertext.close();
  }
}
