package io.keywarden.injector.mutation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Iterator;
import java.util.Map;

/**
 * Whether an element already in the pod is the one the injector would build. What the apiserver
 * stores is not byte-equal to what the injector built: defaulting adds fields
 * (terminationMessagePath, a projected volume's defaultMode, fieldRef apiVersion) and admission
 * plugins append (the ServiceAccount plugin's token mount). Neither changes or reorders what was
 * there, so "every field we set is present with the same value, arrays compared as prefixes" is the
 * test that makes a second mutation of a stored pod an empty patch.
 */
final class JsonSubset {

  // The same mapping the webhook framework uses for its diff.
  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonSubset() {}

  static boolean covers(Object actual, Object wanted) {
    return covers(JSON.valueToTree(actual), (JsonNode) JSON.valueToTree(wanted));
  }

  private static boolean covers(JsonNode actual, JsonNode wanted) {
    if (wanted.isObject()) {
      if (!actual.isObject()) {
        return false;
      }
      for (Iterator<Map.Entry<String, JsonNode>> fields = wanted.fields(); fields.hasNext(); ) {
        Map.Entry<String, JsonNode> field = fields.next();
        JsonNode value = actual.get(field.getKey());
        if (value == null || !covers(value, field.getValue())) {
          return false;
        }
      }
      return true;
    }
    if (wanted.isArray()) {
      if (!actual.isArray() || actual.size() < wanted.size()) {
        return false;
      }
      for (int i = 0; i < wanted.size(); i++) {
        if (!covers(actual.get(i), wanted.get(i))) {
          return false;
        }
      }
      return true;
    }
    return wanted.equals(actual);
  }
}
