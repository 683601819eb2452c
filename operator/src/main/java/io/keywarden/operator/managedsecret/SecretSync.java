package io.keywarden.operator.managedsecret;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keywarden.api.v1alpha1.SyncToSecretSpec;
import io.keywarden.operator.crypto.SecretValue;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The opt-in spec.syncToSecret: how the CURRENT plaintext becomes the data of a core Secret owned
 * by the ManagedSecret, for apps that can only take environment variables. {@link
 * SyncedSecretDependent} keeps that Secret.
 */
@ApplicationScoped
public class SecretSync {

  public static final String LABEL_SYNCED_FROM = "keywarden.io/synced-from";
  private final ObjectMapper json;

  public SecretSync(ObjectMapper json) {
    this.json = json;
  }

  /** The data of the synced Secret for a value: what {@link SyncedSecretDependent} writes. */
  Map<String, String> data(SyncToSecretSpec spec, SecretValue value) {
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
}
