package io.keywarden.operator.managedsecret;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.SyncToSecretSpec;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.InvalidSpecException;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The opt-in spec.syncToSecret: the CURRENT plaintext copied into a core Secret owned by the
 * ManagedSecret, for apps that can only take environment variables.
 */
@ApplicationScoped
public class SecretSync {

  public static final String LABEL_SYNCED_FROM = "keywarden.io/synced-from";
  private final KubernetesClient client;
  private final ObjectMapper json;

  public SecretSync(KubernetesClient client, ObjectMapper json) {
    this.client = client;
    this.json = json;
  }

  /** Writes the value if it differs from what the target holds; removes targets no longer named. */
  public boolean apply(ManagedSecret owner, SecretValue value) {
    SyncToSecretSpec spec = owner.getSpec().getSyncToSecret();
    String namespace = owner.getMetadata().getNamespace();
    removeStale(owner, spec == null ? null : spec.getName());
    if (spec == null) {
      return false;
    }
    Map<String, String> data = data(spec, value);
    Secret existing = client.secrets().inNamespace(namespace).withName(spec.getName()).get();
    if (existing != null && !ownedBy(existing, owner)) {
      throw new InvalidSpecException(
          "spec.syncToSecret.name",
          "Secret "
              + namespace
              + "/"
              + spec.getName()
              + " exists and is not managed by this ManagedSecret",
          ManagedSecretConditions.SYNC_TARGET_CONFLICT);
    }
    if (existing != null && Objects.equals(existing.getData(), data)) {
      return false;
    }
    client
        .secrets()
        .inNamespace(namespace)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(spec.getName())
                .withNamespace(namespace)
                .addToLabels(KeywardenApi.MANAGED_BY_LABEL, KeywardenApi.OPERATOR)
                .addToLabels(LABEL_SYNCED_FROM, owner.getMetadata().getName())
                .withOwnerReferences(
                    new OwnerReferenceBuilder()
                        .withApiVersion(owner.getApiVersion())
                        .withKind(owner.getKind())
                        .withName(owner.getMetadata().getName())
                        .withUid(owner.getMetadata().getUid())
                        .withController(true)
                        .withBlockOwnerDeletion(false)
                        .build())
                .endMetadata()
                .withType("Opaque")
                .withData(data)
                .build())
        .createOr(r -> r.update());
    return true;
  }

  private Map<String, String> data(SyncToSecretSpec spec, SecretValue value) {
    Base64.Encoder b64 = Base64.getEncoder();
    Map<String, String> data = new LinkedHashMap<>();
    data.put(spec.getKey() == null ? "value" : spec.getKey(), b64.encodeToString(value.bytes()));
    // A JSON object is also split into one key per top-level string field, the shape env vars want.
    try {
      JsonNode node = json.readTree(value.bytes());
      if (node != null && node.isObject()) {
        node.fields()
            .forEachRemaining(
                e -> {
                  if (e.getValue().isValueNode() && e.getKey().matches("[-._a-zA-Z0-9]+")) {
                    data.putIfAbsent(
                        e.getKey(),
                        b64.encodeToString(
                            e.getValue()
                                .asText()
                                .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                  }
                });
      }
    } catch (java.io.IOException notJson) {
      // A plain value: the single key is all there is.
    }
    return data;
  }

  private void removeStale(ManagedSecret owner, String keep) {
    client
        .secrets()
        .inNamespace(owner.getMetadata().getNamespace())
        .withLabel(LABEL_SYNCED_FROM, owner.getMetadata().getName())
        .list()
        .getItems()
        .stream()
        .filter(s -> ownedBy(s, owner) && !s.getMetadata().getName().equals(keep))
        .forEach(s -> client.resource(s).delete());
  }

  private static boolean ownedBy(Secret secret, ManagedSecret owner) {
    return secret.getMetadata().getOwnerReferences().stream()
        .anyMatch(r -> owner.getMetadata().getUid().equals(r.getUid()));
  }
}
