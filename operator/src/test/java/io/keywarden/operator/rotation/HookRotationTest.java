package io.keywarden.operator.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keywarden.operator.crypto.SecretValue;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What a hook receives of a value: text as it was put, binary as base64 under its own field. */
class HookRotationTest {

  private final ObjectMapper json = new ObjectMapper();

  @Test
  void textGoesAsAStringAndBinaryAsBase64UnderItsOwnField() {
    ObjectNode body = json.createObjectNode();
    HookRotation.putValue(body, "pendingValue", SecretValue.ofString("p\u00e4ss"));
    // Binary bytes that are valid UTF-8 still go as binary: the form they were put in.
    HookRotation.putValue(
        body, "currentValue", SecretValue.binary("abc".getBytes(StandardCharsets.UTF_8)));

    assertThat(body.get("pendingValue").textValue()).isEqualTo("p\u00e4ss");
    assertThat(body.has("pendingValueBinary")).isFalse();
    assertThat(body.get("currentValueBinary").textValue()).isEqualTo("YWJj");
    assertThat(body.has("currentValue")).isFalse();
  }
}
