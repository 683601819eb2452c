package io.keywarden.operator.managedsecret;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.keywarden.api.v1alpha1.SyncToSecretSpec;
import io.keywarden.operator.crypto.SecretValue;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The opt-in spec.syncToSecret: how the CURRENT plaintext becomes the data of a core Secret owned
 * by the ManagedSecret, for apps that can only take environment variables. {@link
 * SyncedSecretDependent} keeps that Secret.
 */
@ApplicationScoped
public class SecretSync {

  public static final String LABEL_SYNCED_FROM = "keywarden.io/synced-from";
  // Kubernetes validation of Secret data keys (IsConfigMapKey).
  private static final Pattern SECRET_KEY = Pattern.compile("[-._a-zA-Z0-9]{1,253}");
  // Strict about duplicates so the copy never depends on which of two spellings wins.
  private static final JsonFactory FIELDS =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  /** The data of the synced Secret for a value (what {@link SyncedSecretDependent} writes). */
  Conversion data(SyncToSecretSpec spec, SecretValue value) {
    return convert(spec.getKey() == null ? "value" : spec.getKey(), value.bytes());
  }

  /**
   * The Secret's data for a value, and the fields of a JSON object that were not copied, by name
   * and why. Every copied byte is exactly the value's: the whole value under {@code key}, and each
   * top-level field of a JSON object under its own name: a string as its UTF-8 bytes, a number or
   * boolean as its JSON literal, null as nothing (an empty entry, as the agent writes a null key).
   * What cannot be copied that way is reported, never dropped silently: a name that is not a Secret
   * data key, the name the whole value already uses, a nested object or array (read it from the
   * whole value), and a string holding an unpaired surrogate (no UTF-8 form).
   */
  static Conversion convert(String wholeKey, byte[] value) {
    Base64.Encoder b64 = Base64.getEncoder();
    Map<String, String> data = new LinkedHashMap<>();
    List<String> notCopied = new ArrayList<>();
    data.put(wholeKey, b64.encodeToString(value));
    try (JsonParser parser = FIELDS.createParser(value)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return new Conversion(data, notCopied);
      }
      Map<String, String> fields = new LinkedHashMap<>();
      for (JsonToken token = parser.nextToken();
          token == JsonToken.FIELD_NAME;
          token = parser.nextToken()) {
        String name = parser.currentName();
        JsonToken valueToken = parser.nextToken();
        String problem = null;
        String encoded = null;
        switch (valueToken) {
          case VALUE_STRING -> {
            String text = parser.getText();
            if (hasUnpairedSurrogate(text)) {
              problem = "its string holds an unpaired UTF-16 surrogate";
            } else {
              encoded = b64.encodeToString(text.getBytes(StandardCharsets.UTF_8));
            }
          }
          case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE ->
              encoded = b64.encodeToString(parser.getText().getBytes(StandardCharsets.US_ASCII));
          case VALUE_NULL -> encoded = "";
          default -> {
            parser.skipChildren();
            problem =
                (valueToken == JsonToken.START_ARRAY ? "an array" : "a nested object")
                    + "; read it from the whole value";
          }
        }
        if (problem == null && !SECRET_KEY.matcher(name).matches()) {
          problem = "not a Secret data key (letters, digits, '-', '_', '.'; at most 253)";
        } else if (problem == null && name.equals(wholeKey)) {
          problem = "the whole value already uses this key";
        } else if (problem == null && fields.containsKey(name)) {
          problem = "the field appears twice";
        }
        if (problem == null) {
          fields.put(name, encoded);
        } else {
          notCopied.add(printable(name) + " (" + problem + ")");
        }
      }
      if (parser.nextToken() != null) {
        // Trailing content: the value is not one JSON object, so it is copied whole only.
        return new Conversion(Map.of(wholeKey, data.get(wholeKey)), List.of());
      }
      data.putAll(fields);
    } catch (java.io.IOException notJson) {
      // A plain value (or not JSON after all): the single key is all there is.
      return new Conversion(Map.of(wholeKey, data.get(wholeKey)), List.of());
    }
    return new Conversion(data, notCopied);
  }

  /**
   * The data of a sync copy, and the JSON fields that could not be copied exactly (name and reason,
   * never a value).
   */
  record Conversion(Map<String, String> data, List<String> notCopied) {
    Conversion {
      data = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(data));
      notCopied = List.copyOf(notCopied);
    }
  }

  private static boolean hasUnpairedSurrogate(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  /** A field name for an Event: at most 64 characters, control characters as '?'. */
  private static String printable(String name) {
    String shown = name.length() > 64 ? name.substring(0, 64) + "..." : name;
    return "'" + shown.replaceAll("\\p{Cntrl}", "?") + "'";
  }
}
