package io.keywarden.operator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keywarden.operator.failure.RequestException;
import java.util.ArrayList;
import java.util.List;

/**
 * The members of one awsJson1.1 request, read with the constraints of botocore's model (types,
 * lengths, ranges), each error naming the member. Members the model has and Keywarden does not
 * serve are refused by the operations, never silently dropped; members no model has are ignored, as
 * AWS ignores them.
 */
final class AwsInput {

  private final ObjectNode body;

  private AwsInput(ObjectNode body) {
    this.body = body;
  }

  /** The body: a JSON object, or nothing (some clients send no body for empty input). */
  static AwsInput of(JsonNode body) {
    if (body == null || body.isMissingNode()) {
      return new AwsInput(JsonNodeFactory.instance.objectNode());
    }
    if (!body.isObject()) {
      throw RequestException.invalidParameter(
          "the body must be a JSON object of the operation's members, not " + body.getNodeType());
    }
    return new AwsInput((ObjectNode) body);
  }

  JsonNode raw() {
    return body;
  }

  boolean has(String member) {
    return body.hasNonNull(member);
  }

  String requiredString(String member, int min, int max) {
    String value = string(member, min, max);
    if (value == null) {
      throw RequestException.invalidParameter(member + " is required");
    }
    return value;
  }

  String string(String member, int min, int max) {
    return has(member) ? text(member, body.get(member), min, max) : null;
  }

  private static String text(String member, JsonNode node, int min, int max) {
    if (!node.isTextual()) {
      throw RequestException.invalidParameter(
          member + " must be a JSON string, not " + node.getNodeType());
    }
    int length = node.textValue().codePointCount(0, node.textValue().length());
    if (length < min || length > max) {
      throw RequestException.invalidParameter(
          member + " must be " + min + " to " + max + " characters long, not " + length);
    }
    return node.textValue();
  }

  Boolean bool(String member) {
    if (!has(member)) {
      return null;
    }
    JsonNode node = body.get(member);
    if (!node.isBoolean()) {
      throw RequestException.invalidParameter(
          member + " must be true or false, not " + node.getNodeType());
    }
    return node.booleanValue();
  }

  Long integer(String member, long min, long max) {
    if (!has(member)) {
      return null;
    }
    JsonNode node = body.get(member);
    if (!node.isIntegralNumber()) {
      throw RequestException.invalidParameter(
          member + " must be a whole number, not " + node.getNodeType());
    }
    if (!node.canConvertToLong() || node.longValue() < min || node.longValue() > max) {
      throw RequestException.invalidParameter(
          member + " must be between " + min + " and " + max + ", not " + node.asText());
    }
    return node.longValue();
  }

  List<String> strings(String member, int minItems, int maxItems, int min, int max) {
    if (!has(member)) {
      return null;
    }
    return strings(member, body.get(member), minItems, maxItems, min, max);
  }

  private static List<String> strings(
      String member, JsonNode node, int minItems, int maxItems, int min, int max) {
    if (!node.isArray()) {
      throw RequestException.invalidParameter(
          member + " must be a JSON array, not " + node.getNodeType());
    }
    if (node.size() < minItems || node.size() > maxItems) {
      throw RequestException.invalidParameter(
          member + " must have " + minItems + " to " + maxItems + " entries, not " + node.size());
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      out.add(text(member + "[" + i + "]", node.get(i), min, max));
    }
    return out;
  }

  /** Filters: at most 10 of {Key, Values (1 to 10 strings of 0 to 512 characters)}. */
  SecretFilters filters() {
    if (!has("Filters")) {
      return null;
    }
    JsonNode node = body.get("Filters");
    if (!node.isArray() || node.size() > 10) {
      throw RequestException.invalidParameter("Filters must be a JSON array of at most 10 filters");
    }
    List<SecretFilters.Filter> filters = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      String at = "Filters[" + i + "]";
      JsonNode filter = node.get(i);
      if (!filter.isObject() || !filter.hasNonNull("Key") || !filter.hasNonNull("Values")) {
        throw RequestException.invalidParameter(at + " must be an object with Key and Values");
      }
      String key = text(at + ".Key", filter.get("Key"), 1, 32);
      List<String> values = strings(at + ".Values", filter.get("Values"), 1, 10, 0, 512);
      filters.add(new SecretFilters.Filter(key, values));
    }
    return new SecretFilters(filters);
  }

  /** A member of the model that Keywarden does not serve: refused with the Kubernetes way. */
  void refuse(String member, String why) {
    if (has(member)) {
      throw RequestException.invalidParameter(member + " is not supported: " + why);
    }
  }
}
