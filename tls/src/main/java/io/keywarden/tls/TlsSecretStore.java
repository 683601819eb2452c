package io.keywarden.tls;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.Map;
import java.util.Optional;

/**
 * The Secret that holds a self-issued CA and serving certificate, shared by all replicas of one
 * server (the injector's webhook, the operator's API). Writes use optimistic concurrency (create,
 * or update at the read resourceVersion), so replicas starting together agree on one CA instead of
 * overwriting each other's.
 */
public final class TlsSecretStore {

  /** A Secret as read: its material (if usable) and the version to update. */
  public record Stored(Optional<TlsMaterial> material, Optional<String> resourceVersion) {}

  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private final Map<String, String> labels;

  public TlsSecretStore(
      KubernetesClient client, String namespace, String name, Map<String, String> labels) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
    this.labels = Map.copyOf(labels);
  }

  /** namespace/name, for messages. */
  public String describe() {
    return namespace + "/" + name;
  }

  public Stored read() {
    Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
    if (secret == null) {
      return new Stored(Optional.empty(), Optional.empty());
    }
    return new Stored(
        TlsMaterial.fromSecretData(secret.getData()),
        Optional.ofNullable(secret.getMetadata().getResourceVersion()));
  }

  /** False when another replica wrote first; the caller reads again. */
  public boolean write(TlsMaterial material, Optional<String> resourceVersion) {
    Secret secret =
        new SecretBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .addToLabels(labels)
            .withResourceVersion(resourceVersion.orElse(null))
            .endMetadata()
            .withType("kubernetes.io/tls")
            .withData(material.toSecretData())
            .build();
    try {
      if (resourceVersion.isPresent()) {
        client.secrets().inNamespace(namespace).resource(secret).update();
      } else {
        client.secrets().inNamespace(namespace).resource(secret).create();
      }
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        return false;
      }
      throw e;
    }
  }
}
