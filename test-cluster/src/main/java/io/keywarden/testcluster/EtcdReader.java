package io.keywarden.testcluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads every key of the test cluster's etcd through its v3 JSON gateway, below the apiserver, so
 * that tests see exactly the bytes at rest.
 */
public final class EtcdReader {

  private final URI endpoint;
  private final HttpClient http = HttpClient.newHttpClient();
  private final ObjectMapper json = new ObjectMapper();

  public EtcdReader(String endpoint) {
    this.endpoint = URI.create(endpoint);
  }

  /** Every key with its raw value, for keys starting with {@code prefix}. */
  public Map<String, byte[]> readAll(String prefix) {
    byte[] start = prefix.getBytes(StandardCharsets.UTF_8);
    byte[] end = start.clone();
    end[end.length - 1]++;
    String body = "{\"key\":\"" + b64(start) + "\",\"range_end\":\"" + b64(end) + "\"}";
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(endpoint.resolve("/v3/kv/range"))
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .header("Content-Type", "application/json")
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            "etcd range failed: " + response.statusCode() + " " + response.body());
      }
      Map<String, byte[]> result = new LinkedHashMap<>();
      JsonNode kvs = json.readTree(response.body()).path("kvs");
      for (JsonNode kv : kvs.isArray() ? kvs : json.createArrayNode()) {
        result.put(
            new String(Base64.getDecoder().decode(kv.path("key").asText()), StandardCharsets.UTF_8),
            Base64.getDecoder().decode(kv.path("value").asText()));
      }
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Keys whose stored bytes contain any of the needles. */
  public List<String> keysContaining(String prefix, List<byte[]> needles) {
    return readAll(prefix).entrySet().stream()
        .filter(e -> needles.stream().anyMatch(n -> indexOf(e.getValue(), n) >= 0))
        .map(Map.Entry::getKey)
        .toList();
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static String b64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }
}
