package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keywarden.operator.api.Shapes.SecretDescription;
import io.keywarden.operator.api.Shapes.SecretValueEntry;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One shape, two spellings: REST (ISO dates, CURRENT) and awsJson1.1 (epoch seconds, AWSCURRENT).
 */
class RenderingTest {

  private static final ObjectMapper BASE = new ObjectMapper();
  private static final Instant CREATED = Instant.parse("2026-11-30T08:00:00Z");

  private static JsonNode render(Rendering rendering, Object shape) throws Exception {
    return BASE.readTree(rendering.mapper(BASE).writeValueAsBytes(shape));
  }

  @Test
  void aValueEntryInBothProtocols() throws Exception {
    SecretValueEntry entry =
        new SecretValueEntry(
            "arn:aws:secretsmanager:us-east-1:000000000000:secret:ns/db-AbC123",
            "db",
            "ns",
            "v1",
            null,
            new byte[] {0, (byte) 0xff},
            List.of(VersionStage.CURRENT),
            CREATED);

    JsonNode rest = render(Rendering.REST, entry);
    JsonNode aws = render(Rendering.AWS_JSON, entry);

    assertThat(rest.get("CreatedDate").textValue()).isEqualTo("2026-11-30T08:00:00Z");
    assertThat(aws.get("CreatedDate").isIntegralNumber()).isTrue();
    assertThat(aws.get("CreatedDate").longValue()).isEqualTo(CREATED.getEpochSecond());
    assertThat(rest.get("VersionStages").get(0).textValue()).isEqualTo("CURRENT");
    assertThat(aws.get("VersionStages").get(0).textValue()).isEqualTo("AWSCURRENT");
    for (JsonNode body : List.of(rest, aws)) {
      assertThat(body.get("ARN").textValue()).startsWith("arn:aws:secretsmanager:");
      assertThat(body.get("Name").textValue()).isEqualTo("db");
      assertThat(body.get("VersionId").textValue()).isEqualTo("v1");
      assertThat(body.get("SecretBinary").textValue()).isEqualTo("AP8=");
      assertThat(body.has("SecretString")).as("null members are left out").isFalse();
    }
  }

  @Test
  void fractionsOfSecondsStayFractions() throws Exception {
    var answer =
        new Shapes.RotateSecretResponse(
            "arn", "db", "ns", null, Instant.parse("2026-11-30T08:00:00.250Z"));

    assertThat(render(Rendering.AWS_JSON, answer).get("RotationRequested").decimalValue())
        .isEqualByComparingTo(
            java.math.BigDecimal.valueOf(CREATED.getEpochSecond())
                .add(new java.math.BigDecimal("0.25")));
    assertThat(render(Rendering.REST, answer).get("RotationRequested").textValue())
        .isEqualTo("2026-11-30T08:00:00.250Z");
  }

  @Test
  void versionMapsAreNamedPerOperation() throws Exception {
    SecretDescription describe =
        new SecretDescription(
            "arn",
            "db",
            "ns",
            null,
            "default",
            false,
            CREATED,
            CREATED,
            null,
            null,
            null,
            null,
            Map.of("v1", List.of(VersionStage.CURRENT), "v0", List.of(VersionStage.PREVIOUS)),
            null);

    JsonNode described = render(Rendering.AWS_JSON, describe);
    JsonNode listed = render(Rendering.AWS_JSON, describe.asListEntry());

    assertThat(described.get("VersionIdsToStages").get("v0").get(0).textValue())
        .isEqualTo("AWSPREVIOUS");
    assertThat(described.has("SecretVersionsToStages")).isFalse();
    assertThat(listed.get("SecretVersionsToStages").get("v1").get(0).textValue())
        .isEqualTo("AWSCURRENT");
    assertThat(listed.has("VersionIdsToStages")).isFalse();
  }
}
