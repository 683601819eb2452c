package io.keywarden.operator.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keywarden.api.v1alpha1.GenerateSpec;
import io.keywarden.operator.crypto.SecretValue;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ValueGeneratorTest {

  private final ObjectMapper json = new ObjectMapper();
  private final ValueGenerator generator = new ValueGenerator(json);

  @Test
  void templateKeepsFixedKeysAndOnlyRegeneratesNamedOnes() throws Exception {
    GenerateSpec spec = template("{\"username\":\"app\",\"port\":5432}", "password");

    SecretValue first = generator.generate(spec);
    JsonNode one = json.readTree(first.bytes());
    assertThat(one.get("username").asText()).isEqualTo("app");
    assertThat(one.get("port").asInt()).isEqualTo(5432);
    assertThat(one.get("password").asText()).hasSize(32);

    JsonNode two = json.readTree(generator.generate(spec, Optional.of(first)).bytes());
    assertThat(two.get("username").asText()).isEqualTo("app");
    assertThat(two.get("password").asText()).isNotEqualTo(one.get("password").asText());
  }

  @Test
  void badTemplatesNameTheField() {
    assertThatThrownBy(() -> generator.validate(template("{not json", "password")))
        .hasMessageStartingWith("spec.generate.secretStringTemplate is not valid JSON");
    assertThatThrownBy(() -> generator.validate(template("[1,2]", "password")))
        .hasMessageStartingWith("spec.generate.secretStringTemplate must be a JSON object");
    GenerateSpec keysWithoutTemplate = new GenerateSpec();
    keysWithoutTemplate.setGenerateStringKeys(List.of("password"));
    assertThatThrownBy(() -> generator.validate(keysWithoutTemplate))
        .hasMessageStartingWith("spec.generate.generateStringKeys");
  }

  @Test
  void valueOverTheAwsLimitIsRefused() {
    GenerateSpec spec =
        template(
            "{}", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
            "q");
    spec.setPasswordLength(4096);
    assertThatThrownBy(() -> generator.generate(spec)).hasMessageContaining("the limit is 65536");
  }

  private static GenerateSpec template(String template, String... keys) {
    GenerateSpec spec = new GenerateSpec();
    spec.setSecretStringTemplate(template);
    spec.setGenerateStringKeys(List.of(keys));
    return spec;
  }
}
