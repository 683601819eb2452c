package io.keywarden.operator.api.tls;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * Publishes the CA bundle of the API's self-issued certificate in the ConfigMap {@value
 * #CA_CONFIGMAP} of the operator namespace, key {@code ca.crt}: the injector watches it and hands
 * it to every agent it adds (KEYWARDEN_API_CA). The bundle holds the current CA, and beside it the
 * next one during a CA change and the previous one until it expires, so clients that read it once
 * keep trusting the API across the change.
 */
final class ApiCaPublisher {

  static final String CA_CONFIGMAP = "keywarden-api-ca";

  private final KubernetesClient client;
  private final String namespace;

  ApiCaPublisher(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /** Server-side apply: unchanged content is no write, and a deleted ConfigMap comes back. */
  void publish(String caBundlePem) {
    client
        .configMaps()
        .inNamespace(namespace)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(CA_CONFIGMAP)
                .withNamespace(namespace)
                .addToLabels("app.kubernetes.io/part-of", "keywarden")
                .endMetadata()
                .addToData("ca.crt", caBundlePem)
                .build())
        .fieldManager("keywarden-operator")
        .forceConflicts()
        .serverSideApply();
  }
}
