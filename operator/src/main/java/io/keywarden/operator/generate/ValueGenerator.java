package io.keywarden.operator.generate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keywarden.api.v1alpha1.GenerateSpec;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.InvalidSpecException;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Optional;

/**
 * The value of spec.generate: a random string, or, with a secretStringTemplate, a JSON object whose
 * generateStringKeys are random strings (CloudFormation GenerateSecretString semantics). On
 * rotation only the generated keys change.
 */
@ApplicationScoped
public class ValueGenerator {

  private static final String FIELD = "spec.generate";
  private final ObjectMapper json;

  public ValueGenerator(ObjectMapper json) {
    this.json = json;
  }

  /**
   * Checks the parameters without generating, so that bad input is reported before anything is
   * stored.
   */
  public void validate(GenerateSpec spec) {
    PasswordPolicy.from(spec, FIELD);
    template(spec);
  }

  public SecretValue generate(GenerateSpec spec) {
    return generate(spec, Optional.empty());
  }

  /**
   * A new value; with a JSON template, keys other than the generated ones keep their current
   * values.
   */
  public SecretValue generate(GenerateSpec spec, Optional<SecretValue> current) {
    PasswordPolicy policy = PasswordPolicy.from(spec, FIELD);
    Optional<ObjectNode> template = template(spec);
    if (template.isEmpty()) {
      return SecretValue.ofString(PasswordGenerator.generate(policy));
    }
    ObjectNode value = current.flatMap(this::parseObject).orElse(template.get());
    for (String key : spec.getGenerateStringKeys()) {
      value.put(key, PasswordGenerator.generate(policy));
    }
    byte[] bytes = value.toString().getBytes(StandardCharsets.UTF_8);
    if (bytes.length > KeywardenApi.MAX_VALUE_BYTES) {
      throw new InvalidSpecException(
          FIELD,
          "produces a value of "
              + bytes.length
              + " bytes; the limit is "
              + KeywardenApi.MAX_VALUE_BYTES);
    }
    return SecretValue.of(bytes);
  }

  private Optional<ObjectNode> template(GenerateSpec spec) {
    if (spec.getSecretStringTemplate() == null) {
      if (!spec.getGenerateStringKeys().isEmpty()) {
        throw new InvalidSpecException(
            FIELD + ".generateStringKeys", "needs spec.generate.secretStringTemplate");
      }
      return Optional.empty();
    }
    JsonNode node;
    try {
      node = json.readTree(spec.getSecretStringTemplate());
    } catch (JsonProcessingException e) {
      throw new InvalidSpecException(
          FIELD + ".secretStringTemplate",
          "is not valid JSON (line "
              + e.getLocation().getLineNr()
              + ", column "
              + e.getLocation().getColumnNr()
              + ")");
    }
    if (!(node instanceof ObjectNode object)) {
      throw new InvalidSpecException(FIELD + ".secretStringTemplate", "must be a JSON object");
    }
    if (spec.getGenerateStringKeys().isEmpty()) {
      throw new InvalidSpecException(
          FIELD + ".generateStringKeys", "must name at least one key to generate");
    }
    if (new HashSet<>(spec.getGenerateStringKeys()).size() != spec.getGenerateStringKeys().size()) {
      throw new InvalidSpecException(FIELD + ".generateStringKeys", "names a key twice");
    }
    return Optional.of(object);
  }

  private Optional<ObjectNode> parseObject(SecretValue value) {
    try {
      return json.readTree(value.bytes()) instanceof ObjectNode o
          ? Optional.of(o)
          : Optional.empty();
    } catch (java.io.IOException e) {
      return Optional.empty();
    }
  }
}
