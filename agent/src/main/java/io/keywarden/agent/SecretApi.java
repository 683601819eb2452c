package io.keywarden.agent;

import io.keywarden.agent.AgentConfig.SecretRef;
import io.keywarden.contract.AwsSdkEnv;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * Client of the secret-value API ({@code GET /v1/namespaces/{ns}/managedsecrets/{name}/value}, and
 * {@code POST /} of the Secrets Manager protocol for {@link AwsEndpoint}). The ServiceAccount token
 * file is read for every request, because kubelet rotates projected tokens in place. Nothing here
 * logs; exception messages carry status and the server's message, never a token or value.
 *
 * <p>Built on {@link HttpURLConnection} (java.base), not {@code java.net.http.HttpClient}: for a
 * few blocking HTTP/1.1 requests the JDK's older client loads about 470 fewer classes and starts no
 * selector or executor threads, which is about 4 MB less resident memory (docs/benchmarks.md). It
 * keeps idle connections alive between requests, and verifies the server's host name against its
 * certificate.
 */
final class SecretApi implements AutoCloseable {

  private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  // A long-poll may legitimately take its full timeout; the grace covers a slow answer after it.
  private static final Duration LONG_POLL_GRACE = Duration.ofSeconds(15);
  private static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);
  // The API's messages name the caller, the verb, the secret and the fix (about 250 characters);
  // the bound only keeps a misbehaving server from filling logs and pod events.
  private static final int MAX_MESSAGE = 1000;

  private final SSLSocketFactory sslSocketFactory;
  private final URI apiUrl;
  private final String namespace;
  private final Path tokenFile;
  private final String userAgent;
  // Requests in flight, so that close() can end blocked reads, which Thread.interrupt() does not.
  private final Set<HttpURLConnection> inFlight = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  SecretApi(AgentConfig config, String version) {
    this.sslSocketFactory =
        config.caCertificates().isEmpty()
            ? null
            : trusting(config.caCertificates()).getSocketFactory();
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
  SecretValue waitForChange(SecretRef ref, String versionId, int timeoutSeconds)
      throws IOException, InterruptedException {
    String query = "&waitForChange=" + urlEncode(versionId) + "&timeoutSeconds=" + timeoutSeconds;
    return send(ref, query, Duration.ofSeconds(timeoutSeconds).plus(LONG_POLL_GRACE));
  }

  /** Ends the requests in flight (their threads get an IOException) and refuses new ones. */
  @Override
  public void close() {
    closed = true;
    inFlight.forEach(HttpURLConnection::disconnect);
  }

  private SecretValue send(SecretRef ref, String extraQuery, Duration timeout)
      throws IOException, InterruptedException {
    if (closed || Thread.currentThread().isInterrupted()) {
      throw new InterruptedException("the agent is stopping");
    }
    // Names and stages are validated as URL-safe in AgentConfig.
    URI uri =
        URI.create(
            apiUrl
                + "/v1/namespaces/"
                + namespace
                + "/managedsecrets/"
                + ref.secret()
                + "/value?versionStage="
                + ref.stage()
                + extraQuery);
    HttpURLConnection connection = open(uri, timeout);
    connection.setRequestProperty("Accept", "application/json");
    inFlight.add(connection);
    try {
      int status = connection.getResponseCode();
      // Reading each body to its end lets the connection be reused for the next request.
      String body = read(status >= 400 ? connection.getErrorStream() : connection.getInputStream());
      if (status == 200) {
        try {
          return SecretValue.fromJson(body);
        } catch (Json.ParseException e) {
          throw new IOException("malformed 200 response: " + e.getMessage());
        }
      }
      if (status == 304) {
        return null;
      }
      throw new ApiException(
          status,
          status + " " + errorMessage(body),
          retryAfter(connection.getHeaderField("Retry-After")));
    } catch (IOException | RuntimeException e) {
      // disconnect() from close() can also surface as a RuntimeException from inside the JDK's
      // client.
      if (closed) {
        throw new InterruptedException("the agent is stopping");
      }
      throw e;
    } finally {
      inFlight.remove(connection);
    }
  }

  /**
   * One request of the Secrets Manager protocol ({@code POST /}, awsJson1.1) on behalf of the app,
   * with the pod's token: the answer as received, whatever its status, for {@link AwsEndpoint} to
   * pass back unchanged.
   *
   * @param target the {@code X-Amz-Target}, {@code secretsmanager.<Operation>}
   */
  Answer post(String target, String contentType, byte[] body) throws IOException {
    if (closed) {
      throw new IOException("the agent is stopping");
    }
    HttpURLConnection connection = open(URI.create(apiUrl + "/"), REQUEST_TIMEOUT);
    connection.setRequestMethod("POST");
    connection.setDoOutput(true);
    connection.setFixedLengthStreamingMode(body.length);
    connection.setRequestProperty("X-Amz-Target", target);
    connection.setRequestProperty("Content-Type", contentType);
    inFlight.add(connection);
    try {
      try (var out = connection.getOutputStream()) {
        out.write(body);
      }
      return answer(connection);
    } finally {
      inFlight.remove(connection);
    }
  }

  /**
   * The container-credentials call ({@code GET /v1/aws/credentials}) of an app's AWS SDK, for
   * {@link CredentialsRelay}: sent with the app's own {@code Authorization} (the content of its
   * token file), not the agent's token; the answer as received, whatever its status.
   */
  Answer credentials(String authorization) throws IOException {
    if (closed) {
      throw new IOException("the agent is stopping");
    }
    HttpURLConnection connection =
        open(URI.create(apiUrl + AwsSdkEnv.CREDENTIALS_PATH), REQUEST_TIMEOUT, authorization);
    connection.setRequestProperty("Accept", "application/json");
    inFlight.add(connection);
    try {
      return answer(connection);
    } finally {
      inFlight.remove(connection);
    }
  }

  /** An answer of the API's {@code POST /}: status, content type (may be null) and body. */
  record Answer(int status, String contentType, byte[] body) {}

  private static Answer answer(HttpURLConnection connection) throws IOException {
    int status = connection.getResponseCode();
    InputStream in = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
    byte[] body;
    if (in == null) {
      body = new byte[0];
    } else {
      try (in) {
        body = in.readAllBytes();
      }
    }
    return new Answer(status, connection.getContentType(), body);
  }

  // Every request: the pod's token, no proxy, no redirect, the API's CA.
  private HttpURLConnection open(URI uri, Duration timeout) throws IOException {
    return open(uri, timeout, "Bearer " + token());
  }

  private HttpURLConnection open(URI uri, Duration timeout, String authorization)
      throws IOException {
    // No proxy from system properties: the token must go to the configured address only.
    HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection(Proxy.NO_PROXY);
    if (sslSocketFactory != null && connection instanceof HttpsURLConnection https) {
      https.setSSLSocketFactory(sslSocketFactory);
    }
    connection.setInstanceFollowRedirects(false);
    connection.setUseCaches(false);
    connection.setConnectTimeout(CONNECT_TIMEOUT_MILLIS);
    connection.setReadTimeout((int) timeout.toMillis());
    connection.setRequestProperty("Authorization", authorization);
    connection.setRequestProperty("User-Agent", userAgent);
    return connection;
  }

  private static String read(InputStream in) throws IOException {
    if (in == null) {
      return "";
    }
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private String token() throws IOException {
    String token;
    try {
      token = Files.readString(tokenFile, StandardCharsets.US_ASCII).strip();
    } catch (IOException e) {
      throw new IOException(
          "cannot read the token file " + tokenFile + ": " + e.getClass().getSimpleName());
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
    if (text.length() > MAX_MESSAGE) {
      out.append(" [cut at ").append(MAX_MESSAGE).append(" characters]");
    }
    return out.toString();
  }

  // RFC 9110 allows an HTTP-date too; the API sends seconds, and a date is treated as absent.
  private static Duration retryAfter(String value) {
    if (value == null) {
      return null;
    }
    try {
      long seconds = Long.parseLong(value.strip());
      return seconds < 0
          ? null
          : Duration.ofSeconds(Math.min(seconds, MAX_RETRY_AFTER.toSeconds()));
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
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trustStore);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build a trust store from the API CA certificates", e);
    }
  }
}
