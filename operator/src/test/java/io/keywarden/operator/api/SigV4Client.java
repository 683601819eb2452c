package io.keywarden.operator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * HTTPS with the published CA: the container-credentials endpoint as the SDKs call it (the token
 * file's content as Authorization), and requests signed with the AWS SDK for Java's SigV4 signer.
 */
public final class SigV4Client {

  /** Credentials as the endpoint answered them. */
  public record Credentials(
      String accessKeyId, String secretAccessKey, String sessionToken, Instant expiration) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  // Java's HttpClient sets these itself; the signer's copies are not sent.
  private static final Set<String> RESTRICTED = Set.of("host", "content-length");

  private final String base;
  private final HttpClient http;

  public SigV4Client(String base, String caPem) throws Exception {
    this.base = base;
    SSLContext ssl = ApiClient.trusting(caPem);
    this.http =
        HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(30)).build();
  }

  /** GET /v1/aws/credentials with {@code Authorization: <token>}, as the SDKs send it. */
  public HttpResponse<String> credentialsResponse(String authorization) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + "/v1/aws/credentials"))
            .timeout(Duration.ofSeconds(30));
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return http.send(request.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  public Credentials credentials(String token) throws Exception {
    HttpResponse<String> response = credentialsResponse(token);
    if (response.statusCode() != 200) {
      throw new AssertionError(
          "credentials endpoint answered " + response.statusCode() + ": " + response.body());
    }
    JsonNode body = JSON.readTree(response.body());
    return new Credentials(
        body.get("AccessKeyId").asText(),
        body.get("SecretAccessKey").asText(),
        body.get("Token").asText(),
        Instant.parse(body.get("Expiration").asText()));
  }

  /** A request signed now for secretsmanager in us-east-1. */
  public HttpResponse<String> send(String method, String path, String body, Credentials credentials)
      throws Exception {
    return send(method, path, body, credentials, Instant.now(), Map.of());
  }

  /**
   * A request signed at {@code signedAt}, with extra headers (signed) and then {@code tamper}
   * applied to the signed headers before sending.
   */
  public HttpResponse<String> send(
      String method,
      String path,
      String body,
      Credentials credentials,
      Instant signedAt,
      Map<String, String> replaceAfterSigning)
      throws Exception {
    return http.send(
        signed(method, path, body, credentials, signedAt, replaceAfterSigning, 30),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A request without a body signed at {@code signedAt}, answered within 150 s (long-polls). */
  public CompletableFuture<HttpResponse<String>> sendAsync(
      String method, String path, Credentials credentials, Instant signedAt) {
    return http.sendAsync(
        signed(method, path, null, credentials, signedAt, Map.of(), 150),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest signed(
      String method,
      String path,
      String body,
      Credentials credentials,
      Instant signedAt,
      Map<String, String> replaceAfterSigning,
      int timeoutSeconds) {
    SdkHttpRequest.Builder unsigned =
        SdkHttpRequest.builder()
            .method(SdkHttpMethod.fromValue(method))
            .uri(URI.create(base + path));
    if (body != null) {
      unsigned.putHeader("Content-Type", "application/x-amz-json-1.1");
    }
    var signed =
        AwsV4HttpSigner.create()
            .sign(
                r ->
                    r.request(unsigned.build())
                        .payload(body == null ? null : ContentStreamProvider.fromUtf8String(body))
                        .identity(
                            AwsSessionCredentialsIdentity.create(
                                credentials.accessKeyId(),
                                credentials.secretAccessKey(),
                                credentials.sessionToken()))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "secretsmanager")
                        .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                        .putProperty(
                            HttpSigner.SIGNING_CLOCK, Clock.fixed(signedAt, ZoneOffset.UTC)));
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(timeoutSeconds))
            // Host is signed as host:port; HTTP/1.1 sends it as such (HTTP/2 as :authority).
            .version(HttpClient.Version.HTTP_1_1);
    for (Map.Entry<String, List<String>> header : signed.request().headers().entrySet()) {
      if (RESTRICTED.contains(header.getKey().toLowerCase())) {
        continue;
      }
      String value = replaceAfterSigning.getOrDefault(header.getKey(), header.getValue().get(0));
      request.header(header.getKey(), value);
    }
    request.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return request.build();
  }
}
