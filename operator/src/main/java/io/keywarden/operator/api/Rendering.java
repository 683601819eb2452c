package io.keywarden.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.github.benmanes.caffeine.cache.Cache;
import io.keywarden.operator.config.Caches;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.function.Function;

/**
 * Writes the {@link Shapes} for one protocol. The two protocols differ only in spelling: REST
 * writes dates as ISO-8601 strings and labels as CURRENT; awsJson1.1 writes dates as epoch seconds
 * (JSON numbers, fractions when there are any; the AWS SDK for Java fails on ISO strings) and
 * labels as AWSCURRENT.
 */
public enum Rendering {
  REST("application/json", Rendering::isoText, VersionStage::keywarden),
  AWS_JSON("application/x-amz-json-1.1", null, VersionStage::aws);

  private final String contentType;
  private final Function<Instant, String> dateText;
  private final Function<VersionStage, String> stage;

  Rendering(
      String contentType,
      Function<Instant, String> dateText,
      Function<VersionStage, String> stage) {
    this.contentType = contentType;
    this.dateText = dateText;
    this.stage = stage;
  }

  // ISO-8601 texts of the dates answered (CreatedDate of every GetSecretValue): formatting one was
  // 1.7 % of a cached read, and the same few dates are answered again and again.
  private static final Cache<Instant, String> ISO_TEXTS =
      Caches.onCallingThread().maximumSize(10_000).build();

  private static String isoText(Instant date) {
    return ISO_TEXTS.get(date, Instant::toString);
  }

  public String contentType() {
    return contentType;
  }

  /** A mapper for this protocol, derived from the application's. */
  public ObjectMapper mapper(ObjectMapper base) {
    SimpleModule module = new SimpleModule("keywarden-" + name());
    module.addSerializer(
        Instant.class,
        new JsonSerializer<>() {
          @Override
          public void serialize(Instant value, JsonGenerator out, SerializerProvider provider)
              throws IOException {
            if (dateText != null) {
              out.writeString(dateText.apply(value));
            } else if (value.getNano() == 0) {
              out.writeNumber(value.getEpochSecond());
            } else {
              out.writeNumber(
                  BigDecimal.valueOf(value.getEpochSecond())
                      .add(BigDecimal.valueOf(value.getNano(), 9))
                      .stripTrailingZeros());
            }
          }
        });
    module.addSerializer(
        VersionStage.class,
        new JsonSerializer<>() {
          @Override
          public void serialize(VersionStage value, JsonGenerator out, SerializerProvider provider)
              throws IOException {
            out.writeString(stage.apply(value));
          }
        });
    return base.copy()
        .setPropertyNamingStrategy(PropertyNamingStrategies.UPPER_CAMEL_CASE)
        .setSerializationInclusion(JsonInclude.Include.NON_NULL)
        .registerModule(module);
  }

  /**
   * The HTTP status of an error in this protocol. REST keeps HTTP's own (404, 403, 409, 429, …).
   * awsJson answers as AWS does: every error botocore's model does not mark as a fault is a client
   * error, 400 (ResourceNotFoundException, AccessDeniedException, ThrottlingException,
   * DecryptionFailure, …); InternalServiceError stays 500 and ServiceUnavailableException 503. The
   * SDKs pick the exception from {@code __type}, and retry by it (ThrottlingException) or by a 5xx
   * status.
   */
  public int status(ApiError error) {
    if (this == REST) {
      return error.status();
    }
    return error.status() < 500 || "DecryptionFailure".equals(error.type()) ? 400 : error.status();
  }

  /** The {"__type", "Message"} body both protocols answer errors with. */
  public static byte[] error(ObjectMapper mapper, ApiError error) {
    var node = mapper.createObjectNode();
    node.put("__type", error.type());
    node.put("Message", error.message());
    try {
      return mapper.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
