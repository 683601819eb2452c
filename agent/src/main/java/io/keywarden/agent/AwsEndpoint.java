package io.keywarden.agent;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.keywarden.agent.AgentConfig.SsrfToken;
import io.keywarden.contract.AwsSdkEnv;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The pod's loopback AWS Secrets Manager endpoint ({@code keywarden.io/aws-endpoint}), plain HTTP
 * on 127.0.0.1 only. Two kinds of requests get through, everything else is refused with an
 * AWS-shaped error ({@code {"__type","Message"}}):
 *
 * <ul>
 *   <li>The SDK protocol: {@code POST /} with {@code X-Amz-Target: secretsmanager.<Operation>} and
 *       {@code Content-Type: application/x-amz-json-1.1} is forwarded to the operator API's {@code
 *       POST /} with the pod's token instead of the app's signature (whatever the app's own AWS
 *       credentials signed is dropped, with {@code X-Amz-Security-Token}); the answer comes back
 *       unchanged. A browser or a server-side request forgery can make a GET to a URL, but not set
 *       these headers, so a GET never reaches the API.
 *   <li>AWS's Secrets Manager Agent paths ({@code GET /secretsmanager/get?secretId=…}, {@code GET
 *       /v1/<secretId>}, {@code GET /ping}), checked as aws/aws-secretsmanager-agent's server.rs
 *       does: {@code /ping} answers {@code healthy}; any other request with {@code X-Forwarded-For}
 *       is 400, without the SSRF token in {@code X-Aws-Parameters-Secrets-Token} or {@code
 *       X-Vault-Token} 403, a method other than GET 405. They become GetSecretValue calls and
 *       answer its JSON.
 * </ul>
 *
 * <p>Nothing is cached: every request asks the API, so RBAC and rotation apply at once (AWS's agent
 * caches for 300 s; {@code refreshNow} is accepted and changes nothing here).
 */
final class AwsEndpoint implements AutoCloseable {

  static {
    // The JDK server writes headers and body separately; without TCP_NODELAY, Nagle's algorithm
    // and the client's delayed ACK add about 40 ms to every answer.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  static final String TARGET_PREFIX = "secretsmanager.";
  static final String AWS_JSON = "application/x-amz-json-1.1";
  static final String GET_SECRET_VALUE = TARGET_PREFIX + "GetSecretValue";

  /** AWS's agent takes at most 321 KB; a PutSecretValue of a 64 KiB secret fits either way. */
  static final int MAX_BODY = 1024 * 1024;

  // The path prefix of AWS's agent for GET /v1/<secretId>.
  private static final String PATH_PREFIX = "/v1/";
  // Requests served at once; each waits for the API at most 30 s. Idle threads end after a minute.
  private static final int THREADS = 8;

  private final HttpServer server;
  private final ThreadPoolExecutor executor;
  private final SecretApi api;
  private final SsrfToken ssrfToken;
  private final Log log;

  private AwsEndpoint(HttpServer server, SecretApi api, SsrfToken ssrfToken, Log log) {
    this.server = server;
    this.api = api;
    this.ssrfToken = ssrfToken;
    this.log = log;
    this.executor =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            runnable -> {
              Thread thread = new Thread(null, runnable, "aws-endpoint", 256 * 1024);
              thread.setDaemon(true);
              return thread;
            });
    executor.allowCoreThreadTimeOut(true);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
  }

  /** Listens on 127.0.0.1:{@code port} (0: any free port, for tests). */
  static AwsEndpoint start(int port, SecretApi api, SsrfToken ssrfToken, Log log)
      throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
    AwsEndpoint endpoint = new AwsEndpoint(server, api, ssrfToken, log);
    server.start();
    log.info("AWS endpoint listening on http://127.0.0.1:" + endpoint.port());
    return endpoint;
  }

  int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Reply reply;
      try {
        reply = route(exchange);
      } catch (Refusal refusal) {
        reply = refusal.reply();
      }
      send(exchange, reply);
    } catch (IOException e) {
      // The app closed its connection; nothing to answer.
    }
  }

  /** The API's answer; a 5xx the SDKs retry when it cannot be had. */
  private Reply callApi(String target, String contentType, byte[] body) {
    try {
      return Reply.of(api.post(target, contentType, body));
    } catch (IOException e) {
      log.error("AWS endpoint: the Keywarden API did not answer: " + SecretWatcher.describe(e));
      return Reply.error(
          502, "InternalServiceError", "the Keywarden agent cannot reach the Keywarden API");
    }
  }

  private Reply route(HttpExchange exchange) throws IOException, Refusal {
    String method = exchange.getRequestMethod();
    String path = exchange.getRequestURI().getRawPath();
    Headers headers = exchange.getRequestHeaders();
    if (path.equals("/") && method.equals("POST")) {
      return forward(exchange);
    }
    if (path.equals("/ping")) {
      // As AWS's agent: no token needed, GET only.
      requireGet(method);
      return new Reply(200, "text/plain", "healthy".getBytes(StandardCharsets.US_ASCII));
    }
    if (headers.containsKey("X-Forwarded-For")) {
      throw new Refusal(400, "InvalidRequestException", "requests through a proxy are refused");
    }
    checkSsrfToken(headers);
    requireGet(method);
    String query = exchange.getRequestURI().getRawQuery();
    if (path.equals("/secretsmanager/get")) {
      Map<String, String> parameters = parameters(query, true);
      String secretId = parameters.remove("secretId");
      if (secretId == null || secretId.isEmpty()) {
        throw new Refusal(400, "InvalidParameterException", "missing parameter secretId");
      }
      return getSecretValue(secretId, parameters);
    }
    if (path.startsWith(PATH_PREFIX)) {
      String secretId = decode(path.substring(PATH_PREFIX.length()), false);
      if (secretId.isEmpty()) {
        throw new Refusal(400, "InvalidParameterException", "missing secret ID");
      }
      return getSecretValue(secretId, parameters(query, false));
    }
    throw new Refusal(
        404,
        "UnknownOperationException",
        "not found: this endpoint serves POST / with X-Amz-Target secretsmanager.<Operation>,"
            + " and GET /secretsmanager/get, /v1/<secretId>, /ping");
  }

  /** The SDK protocol: the app's body, target and content type, with the pod's token. */
  private Reply forward(HttpExchange exchange) throws IOException, Refusal {
    Headers headers = exchange.getRequestHeaders();
    String target = headers.getFirst("X-Amz-Target");
    if (target == null
        || !target.startsWith(TARGET_PREFIX)
        || target.length() == TARGET_PREFIX.length()) {
      throw new Refusal(
          400,
          "UnknownOperationException",
          "POST / needs the header X-Amz-Target: secretsmanager.<Operation>");
    }
    String contentType = headers.getFirst("Content-Type");
    if (contentType == null || !mediaType(contentType).equals(AWS_JSON)) {
      throw new Refusal(
          400, "SerializationException", "POST / needs the header Content-Type: " + AWS_JSON);
    }
    if (exchange.getRequestURI().getRawQuery() != null) {
      throw new Refusal(400, "InvalidRequestException", "POST / takes no query string");
    }
    if (headers.containsKey("X-Forwarded-For")) {
      throw new Refusal(400, "InvalidRequestException", "requests through a proxy are refused");
    }
    byte[] body = body(exchange.getRequestBody());
    return callApi(target, contentType, body);
  }

  private Reply getSecretValue(String secretId, Map<String, String> parameters) {
    Map<String, Object> request = new LinkedHashMap<>();
    request.put("SecretId", secretId);
    if (parameters.containsKey("versionId")) {
      request.put("VersionId", parameters.get("versionId"));
    }
    if (parameters.containsKey("versionStage")) {
      request.put("VersionStage", parameters.get("versionStage"));
    }
    byte[] body = Json.write(request).getBytes(StandardCharsets.UTF_8);
    return callApi(GET_SECRET_VALUE, AWS_JSON, body);
  }

  // As AWS's agent: versionId, versionStage and refreshNow (true, false, 1, 0 in any case); any
  // other parameter is refused.
  private static Map<String, String> parameters(String rawQuery, boolean secretId) throws Refusal {
    Map<String, String> parameters = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return parameters;
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int equals = pair.indexOf('=');
      String name = decode(equals < 0 ? pair : pair.substring(0, equals), true);
      String value = equals < 0 ? "" : decode(pair.substring(equals + 1), true);
      switch (name) {
        case "versionId", "versionStage" -> parameters.put(name, value);
        case "refreshNow" -> {
          if (!Map.of("true", 1, "false", 0, "1", 1, "0", 0)
              .containsKey(value.toLowerCase(Locale.ROOT))) {
            throw new Refusal(400, "InvalidParameterException", "invalid refreshNow value");
          }
        }
        case "secretId" -> {
          if (!secretId) {
            throw new Refusal(400, "InvalidParameterException", "unknown parameter: secretId");
          }
          parameters.put(name, value);
        }
        default ->
            throw new Refusal(
                400, "InvalidParameterException", "unknown parameter: " + oneLine(name));
      }
    }
    return parameters;
  }

  private void checkSsrfToken(Headers headers) throws Refusal {
    byte[] expected;
    try {
      expected = ssrfToken.current().getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      log.error("AWS endpoint: cannot read the SSRF token (" + ssrfToken + "): " + e.getMessage());
      throw new Refusal(500, "InternalServiceError", "the agent cannot read its SSRF token");
    }
    for (String header : AwsSdkEnv.SSRF_HEADERS) {
      for (String given : headers.getOrDefault(header, List.of())) {
        // Constant time, so the answer's timing tells nothing about the token.
        if (MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
          return;
        }
      }
    }
    throw new Refusal(
        403,
        "AccessDeniedException",
        "missing or wrong SSRF token: send the header X-Aws-Parameters-Secrets-Token with the"
            + " value of "
            + ssrfToken.variable());
  }

  private static void requireGet(String method) throws Refusal {
    if (!method.equals("GET")) {
      throw new Refusal(405, "InvalidRequestException", "method not allowed: " + oneLine(method));
    }
  }

  private static byte[] body(InputStream in) throws IOException, Refusal {
    byte[] body = in.readNBytes(MAX_BODY + 1);
    if (body.length > MAX_BODY) {
      throw new Refusal(413, "InvalidRequestException", "the body exceeds " + MAX_BODY + " bytes");
    }
    return body;
  }

  private static String mediaType(String contentType) {
    int semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
        .strip()
        .toLowerCase(Locale.ROOT);
  }

  // In a query '+' is a space (form encoding, as AWS's agent reads it); in a path it is itself.
  private static String decode(String text, boolean query) throws Refusal {
    try {
      return URLDecoder.decode(query ? text : text.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new Refusal(400, "InvalidParameterException", "malformed percent-encoding");
    }
  }

  private static String oneLine(String text) {
    String shown = text.length() > 64 ? text.substring(0, 64) + "..." : text;
    return shown.replaceAll("\\p{Cntrl}", "?");
  }

  private static void send(HttpExchange exchange, Reply reply) throws IOException {
    if (reply.contentType() != null) {
      exchange.getResponseHeaders().set("Content-Type", reply.contentType());
    }
    exchange.sendResponseHeaders(
        reply.status(), reply.body().length == 0 ? -1 : reply.body().length);
    if (reply.body().length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(reply.body());
      }
    }
  }

  /** What the app gets back. */
  record Reply(int status, String contentType, byte[] body) {

    static Reply of(SecretApi.Answer answer) {
      return new Reply(answer.status(), answer.contentType(), answer.body());
    }

    static Reply error(int status, String type, String message) {
      Map<String, Object> error = new LinkedHashMap<>();
      error.put("__type", type);
      error.put("Message", message);
      String body = Json.write(error);
      return new Reply(status, AWS_JSON, body.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** A request this endpoint does not serve, with the AWS-shaped error it gets. */
  private static final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String type;

    Refusal(int status, String type, String message) {
      super(message, null, false, false);
      this.status = status;
      this.type = type;
    }

    Reply reply() {
      return Reply.error(status, type, getMessage());
    }
  }
}
