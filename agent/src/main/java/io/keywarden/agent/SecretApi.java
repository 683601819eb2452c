package io.keywarden.agent;

import io.keywarden.agent.AgentConfig.SecretRef;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Client of the secret-value API ({@code GET /v1/namespaces/{ns}/managedsecrets/{name}/value}). The
 * ServiceAccount token file is read for every request, because kubelet rotates projected tokens in
 * place. Nothing here logs; exception messages carry status and the server's message, never a token or value.
 */
final class SecretApi {

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  // A long-poll may legitimately take its full timeout; the grace covers a slow answer after it.
  private static final Duration LONG_POLL_GRACE = Duration.ofSeconds(15);
  private static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);
  private static final int MAX_MESSAGE = 200;

  private final HttpClient client;
  private final URI apiUrl;
  private final String namespace;
  private final Path tokenFile;
  private final String userAgent;

  SecretApi(AgentConfig config, String version) {
    // HTTP/1.1: one connection per long-poll is cheap at this scale, and HTTP/2 would load many more classes.
    HttpClient.Builder builder = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(CONNECT_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER);
    if (!config.caCertificates().isEmpty()) {
      builder.sslContext(trusting(config.caCertificates()));
    }
    this.client = builder.build();
    this.apiUrl = config.apiUrl();
    this.namespace = config.namespace();
    this.tokenFile = config.tokenFile();
    this.userAgent = "keywarden-agent/" + version;
  }

  /** The value at the ref's staging label. */
  SecretValue fetch(SecretRef ref) throws IOException, InterruptedException {
    SecretValue value = send(ref, "", REQUEST_TIMEOUT);
    if (value == null) {
      throw new ApiException(304, "unexpected 304 Not Modified without waitForChange", null);
    }
    return value;
  }

  /**
   * Long-polls until the version at the ref's label differs from {@code versionId}.
   *
   * @return the new value, or null when the server's wait ended without a change (304)
   */
  SecretValue waitForChange(SecretRef ref, String versionId, int timeoutSeconds) throws IOException, InterruptedException {
    String query = "&waitForChange=" + urlEncode(versionId) + "&timeoutSeconds=" + timeoutSeconds;
    return send(ref, query, Duration.ofSeconds(timeoutSeconds).plus(LONG_POLL_GRACE));
  }

  private SecretValue send(SecretRef ref, String extraQuery, Duration timeout) throws IOException, InterruptedException {
    // Names and stages are validated as URL-safe in AgentConfig.
    URI uri = URI.create(apiUrl + "/v1/namespaces/" + namespace + "/managedsecrets/" + ref.secret()
        + "/value?versionStage=" + ref.stage() + extraQuery);
    HttpRequest request = HttpRequest.newBuilder(uri)
        .timeout(timeout)
        .header("Authorization", "Bearer " + token())
        .header("Accept", "application/json")
        .header("User-Agent", userAgent)
        .GET()
        .build();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    int status = response.statusCode();
    if (status == 200) {
      try {
        return SecretValue.fromJson(response.body());
      } catch (Json.ParseException e) {
        throw new IOException("malformed 200 response: " + e.getMessage());
      }
    }
    if (status == 304) {
      return null;
    }
    throw new ApiException(status, status + " " + errorMessage(response.body()), retryAfter(response));
  }

  private String token() throws IOException {
    String token;
    try {
      token = Files.readString(tokenFile, StandardCharsets.US_ASCII).strip();
    } catch (IOException e) {
      throw new IOException("cannot read the token file " + tokenFile + ": " + e.getClass().getSimpleName());
    }
    if (token.isEmpty()) {
      throw new IOException("the token file " + tokenFile + " is empty");
    }
    return token;
  }

  // {"__type":"AccessDeniedException","Message":"..."}; anything else is summarised, not echoed.
  private static String errorMessage(String body) {
    try {
      if (Json.parse(body) instanceof Map<?, ?> error) {
        String type = error.get("__type") instanceof String string ? string : "Error";
        String message = error.get("Message") instanceof String string ? string : "";
        return oneLine(type + (message.isEmpty() ? "" : ": " + message));
      }
    } catch (Json.ParseException e) {
      // fall through
    }
    return "(no JSON error body)";
  }

  private static String oneLine(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length() && out.length() < MAX_MESSAGE; i++) {
      char c = text.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? ' ' : c);
    }
    return out.toString();
  }

  // RFC 9110 allows an HTTP-date too; the API sends seconds, and a date is treated as absent.
  private static Duration retryAfter(HttpResponse<?> response) {
    String value = response.headers().firstValue("Retry-After").orElse(null);
    if (value == null) {
      return null;
    }
    try {
      long seconds = Long.parseLong(value.strip());
      return seconds < 0 ? null : Duration.ofSeconds(Math.min(seconds, MAX_RETRY_AFTER.toSeconds()));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String urlEncode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }

  private static SSLContext trusting(List<X509Certificate> certificates) {
    try {
      KeyStore trustStore = KeyStore.getInstance(KeyStore.getDefaultType());
      trustStore.load(null, null);
      for (int i = 0; i < certificates.size(); i++) {
        trustStore.setCertificateEntry("keywarden-ca-" + i, certificates.get(i));
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trustStore);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build a trust store from the API CA certificates", e);
    }
  }
}
