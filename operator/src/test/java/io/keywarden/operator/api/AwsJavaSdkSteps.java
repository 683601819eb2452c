package io.keywarden.operator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

/**
 * An application that uses the AWS SDK for Java v2 as AWS documents it: {@code
 * SecretsManagerClient.create()}, so region, endpoint, credentials (container provider) and trust
 * (JAVA_TOOL_OPTIONS with a trust store) come from the environment alone. Run as its own JVM; runs
 * the steps of args[0] ({name, op, params}) and prints one JSON line per step: the answer, or the
 * exception the SDK threw (class name and error code).
 */
public final class AwsJavaSdkSteps {

  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    try (SecretsManagerClient client = SecretsManagerClient.create()) {
      for (JsonNode step : JSON.readTree(args[0])) {
        ObjectNode out = JSON.createObjectNode();
        out.put("name", step.get("name").asText());
        JsonNode params = step.path("params");
        try {
          out.set("result", run(client, step.get("op").asText(), params));
          out.put("ok", true);
        } catch (AwsServiceException e) {
          out.put("ok", false);
          out.put("exception", e.getClass().getSimpleName());
          out.put("code", e.awsErrorDetails().errorCode());
          out.put("message", e.awsErrorDetails().errorMessage());
          out.put("status", e.statusCode());
        } catch (SdkException e) {
          out.put("ok", false);
          out.put("exception", e.getClass().getSimpleName());
          out.putNull("code");
          out.put("message", e.getMessage());
        }
        System.out.println(out);
      }
    }
  }

  private static JsonNode run(SecretsManagerClient client, String op, JsonNode p) {
    Object answer =
        switch (op) {
          case "GetSecretValue" ->
              client.getSecretValue(
                  r ->
                      r.secretId(text(p, "SecretId"))
                          .versionStage(text(p, "VersionStage"))
                          .versionId(text(p, "VersionId")));
          case "DescribeSecret" -> client.describeSecret(r -> r.secretId(text(p, "SecretId")));
          case "ListSecretVersionIds" ->
              client.listSecretVersionIds(r -> r.secretId(text(p, "SecretId")));
          case "BatchGetSecretValue" ->
              client.batchGetSecretValue(r -> r.secretIdList(texts(p, "SecretIdList")));
          case "PutSecretValue" ->
              client.putSecretValue(
                  r ->
                      r.secretId(text(p, "SecretId"))
                          .secretString(text(p, "SecretString"))
                          .clientRequestToken(text(p, "ClientRequestToken")));
          case "RotateSecret" -> client.rotateSecret(r -> r.secretId(text(p, "SecretId")));
          case "ListSecrets" -> client.listSecrets(r -> {});
          default -> throw new IllegalArgumentException("unknown op " + op);
        };
    // The SDK's own serialization of the response (its toBuilder field names are AWS's).
    return JSON.valueToTree(
        ((software.amazon.awssdk.core.SdkPojo) answer)
            .sdkFields().stream()
                .collect(
                    java.util.LinkedHashMap<String, Object>::new,
                    (m, f) -> m.put(f.locationName(), plain(f.getValueOrDefault(answer))),
                    java.util.Map::putAll));
  }

  private static Object plain(Object value) {
    if (value instanceof software.amazon.awssdk.core.SdkPojo pojo) {
      java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
      pojo.sdkFields().forEach(f -> m.put(f.locationName(), plain(f.getValueOrDefault(pojo))));
      return m;
    }
    if (value instanceof List<?> list) {
      return list.stream().map(AwsJavaSdkSteps::plain).toList();
    }
    if (value instanceof java.util.Map<?, ?> map) {
      java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
      map.forEach((k, v) -> m.put(String.valueOf(k), plain(v)));
      return m;
    }
    if (value instanceof java.time.Instant
        || value instanceof software.amazon.awssdk.core.SdkBytes) {
      return value.toString();
    }
    return value;
  }

  private static String text(JsonNode params, String field) {
    JsonNode value = params.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }

  private static List<String> texts(JsonNode params, String field) {
    List<String> values = new ArrayList<>();
    params.path(field).forEach(v -> values.add(v.asText()));
    return values;
  }
}
