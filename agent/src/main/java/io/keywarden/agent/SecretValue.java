package io.keywarden.agent;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * One version of a secret as the secret-value API returns it: {@code SecretString} for a value put
 * as text, {@code SecretBinary} (base64) for one put as binary; exactly one of {@code string} and
 * {@code binary} is set.
 */
public record SecretValue(String name, String versionId, String string, byte[] binary) {

  /** Parses the API's 200 body, {@code {"Name":..., "VersionId":..., "SecretString":...}}. */
  static SecretValue fromJson(String body) throws Json.ParseException {
    if (!(Json.parse(body) instanceof Map<?, ?> object)) {
      throw new Json.ParseException("response is not a JSON object", 0);
    }
    if (!(object.get("VersionId") instanceof String versionId) || versionId.isEmpty()) {
      throw new Json.ParseException("response has no VersionId", 0);
    }
    String name = object.get("Name") instanceof String string ? string : null;
    if (object.get("SecretString") instanceof String string) {
      return new SecretValue(name, versionId, string, null);
    }
    if (object.get("SecretBinary") instanceof String base64) {
      try {
        return new SecretValue(name, versionId, null, Base64.getDecoder().decode(base64));
      } catch (IllegalArgumentException e) {
        throw new Json.ParseException("SecretBinary is not base64", 0);
      }
    }
    throw new Json.ParseException("response has neither SecretString nor SecretBinary", 0);
  }

  /** The value's bytes: UTF-8 of the string, or the binary. */
  public byte[] bytes() {
    return binary != null ? binary.clone() : string.getBytes(StandardCharsets.UTF_8);
  }

  public boolean isBinary() {
    return binary != null;
  }

  @Override
  public String toString() {
    return "SecretValue[name=" + name + ", versionId=" + versionId + ", value=(redacted)]";
  }
}
