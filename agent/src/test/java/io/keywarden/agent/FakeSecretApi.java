package io.keywarden.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * A stand-in for the operator's secret-value API, as the agent's contract describes it: {@code GET
 * /v1/namespaces/{ns}/managedsecrets/{name}/value?versionStage=...[&waitForChange=<id>&timeoutSeconds=N]},
 * bearer token checked, AWS-style JSON errors, 304 at the end of a long-poll. CURRENT is the latest
 * version put, PREVIOUS the one before. Plain HTTP unless started with an {@link SSLContext}.
 * Public (and in the agent's test jar) for the CSI node plugin's tests, which drive the same
 * client.
 */
public final class FakeSecretApi implements AutoCloseable {

  static {
    // The JDK server writes headers and body separately; without TCP_NODELAY, Nagle's algorithm and
    // the
    // client's delayed ACK add about 40 ms to every answer, which would show up as the agent's
    // latency.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private static final Pattern PATH =
      Pattern.compile("/v1/namespaces/([^/]+)/managedsecrets/([^/]+)/value");

  /** One request as the server saw it. */
  public record Request(
      long nanoTime,
      String namespace,
      String secret,
      Map<String, String> query,
      String authorization,
      int status) {
    public boolean isLongPoll() {
      return query.containsKey("waitForChange");
    }
  }

  private record Version(String id, String string, byte[] binary) {}

  private record Failure(int status, String type, String retryAfter) {}

  private final HttpServer server;
  private final ExecutorService executor =
      Executors.newCachedThreadPool(
          runnable -> {
            Thread thread = new Thread(runnable, "fake-secret-api");
            thread.setDaemon(true);
            return thread;
          });
  private final Map<String, List<Version>> secrets = new HashMap<>();
  private final Deque<Failure> failures = new ArrayDeque<>();
  private final List<Request> requests = new ArrayList<>();
  private final List<Request> arrivals = new ArrayList<>();
  private Set<String> expectedTokens;
  private boolean down;
  private boolean closed;
  private int versionCounter;

  private FakeSecretApi(HttpServer server) {
    this.server = server;
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  public static FakeSecretApi start() throws IOException {
    return new FakeSecretApi(
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0));
  }

  public static FakeSecretApi startHttps(SSLContext context) throws IOException {
    HttpsServer server =
        HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(context));
    return new FakeSecretApi(server);
  }

  public String url() {
    String scheme = server instanceof HttpsServer ? "https" : "http";
    return scheme + "://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Makes {@code value} the CURRENT version of {@code secret}; returns its version id. */
  public synchronized String put(String secret, String value) {
    return add(secret, new Version("v" + ++versionCounter, value, null));
  }

  synchronized String putBinary(String secret, byte[] value) {
    return add(secret, new Version("v" + ++versionCounter, null, value));
  }

  private String add(String secret, Version version) {
    secrets.computeIfAbsent(secret, name -> new ArrayList<>()).add(version);
    notifyAll();
    return version.id();
  }

  /**
   * Requests must carry {@code Authorization: Bearer <token>} with one of {@code tokens} (several
   * while a renewed token and the one it replaces are both valid); others get 401.
   */
  public synchronized void expectToken(String... tokens) {
    expectedTokens = Set.of(tokens);
  }

  /**
   * The next {@code times} requests fail with {@code status} (and {@code Retry-After}, when not
   * null).
   */
  public synchronized void failNext(int times, int status, String type, String retryAfter) {
    for (int i = 0; i < times; i++) {
      failures.add(new Failure(status, type, retryAfter));
    }
  }

  /** While down, every request gets 503 without Retry-After; waiting long-polls end with it too. */
  public synchronized void setDown(boolean down) {
    this.down = down;
    notifyAll();
  }

  /** The answered requests, in the order their answers were decided. */
  public synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  /**
   * Every request in the order it arrived, answered or not, with status 0: a long-poll the server
   * is still holding shows here and not yet in {@link #requests()}. A request shows here once its
   * token has been judged.
   */
  public synchronized List<Request> arrivals() {
    return List.copyOf(arrivals);
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
      Matcher path = PATH.matcher(exchange.getRequestURI().getPath());
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      String namespace = path.matches() ? path.group(1) : null;
      String secret = path.matches() ? path.group(2) : null;
      Response response;
      try {
        response =
            respond(
                exchange.getRequestMethod(),
                path.matches(),
                namespace,
                secret,
                query,
                authorization);
      } catch (InterruptedException e) {
        response = Response.error(503, "ServiceUnavailableException", null);
      }
      synchronized (this) {
        requests.add(
            new Request(
                System.nanoTime(), namespace, secret, query, authorization, response.status));
      }
      if (response.retryAfter != null) {
        exchange.getResponseHeaders().set("Retry-After", response.retryAfter);
      }
      if (response.body == null) {
        exchange.sendResponseHeaders(response.status, -1);
      } else {
        byte[] body = response.body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(response.status, body.length);
        exchange.getResponseBody().write(body);
      }
    }
  }

  private synchronized Response respond(
      String method,
      boolean pathMatches,
      String namespace,
      String secret,
      Map<String, String> query,
      String authorization)
      throws InterruptedException {
    // Under the same lock as the checks below: once a request shows among the arrivals, its token
    // has been judged, and a later expectToken no longer changes its answer.
    arrivals.add(new Request(System.nanoTime(), namespace, secret, query, authorization, 0));
    if (down) {
      return Response.error(503, "ServiceUnavailableException", null);
    }
    Failure failure = failures.poll();
    if (failure != null) {
      return Response.error(failure.status, failure.type, failure.retryAfter);
    }
    if (!method.equals("GET") || !pathMatches) {
      return Response.error(404, "ResourceNotFoundException", null);
    }
    if (expectedTokens != null
        && (authorization == null
            || !authorization.startsWith("Bearer ")
            || !expectedTokens.contains(authorization.substring(7)))) {
      return Response.error(401, "UnauthorizedException", null);
    }
    String stage = query.getOrDefault("versionStage", "CURRENT");
    Version version = version(secret, stage);
    if (version == null) {
      return Response.error(404, "ResourceNotFoundException", null);
    }
    String waitFor = query.get("waitForChange");
    if (waitFor != null) {
      long deadline =
          System.nanoTime()
              + Long.parseLong(query.getOrDefault("timeoutSeconds", "60")) * 1_000_000_000L;
      while (version.id().equals(waitFor) && !down && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return new Response(304, null, null);
        }
        wait(Math.max(1, left / 1_000_000));
        version = version(secret, stage);
      }
      if (down || closed) {
        return Response.error(503, "ServiceUnavailableException", null);
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("Name", secret);
    body.put("VersionId", version.id());
    body.put("VersionStages", List.of(stage));
    if (version.string() != null) {
      body.put("SecretString", version.string());
    } else {
      body.put("SecretBinary", Base64.getEncoder().encodeToString(version.binary()));
    }
    body.put("CreatedDate", "2026-11-29T03:00:00Z");
    return new Response(200, Json.write(body), null);
  }

  private Version version(String secret, String stage) {
    List<Version> versions = secrets.get(secret);
    if (versions == null) {
      return null;
    }
    return switch (stage) {
      case "CURRENT" -> versions.get(versions.size() - 1);
      case "PREVIOUS" -> versions.size() > 1 ? versions.get(versions.size() - 2) : null;
      default -> null;
    };
  }

  private static Map<String, String> query(String rawQuery) {
    Map<String, String> query = new LinkedHashMap<>();
    if (rawQuery != null) {
      for (String pair : rawQuery.split("&")) {
        int equals = pair.indexOf('=');
        String name = equals < 0 ? pair : pair.substring(0, equals);
        String value = equals < 0 ? "" : pair.substring(equals + 1);
        query.put(
            URLDecoder.decode(name, StandardCharsets.UTF_8),
            URLDecoder.decode(value, StandardCharsets.UTF_8));
      }
    }
    return query;
  }

  private record Response(int status, String body, String retryAfter) {
    static Response error(int status, String type, String retryAfter) {
      return new Response(
          status, Json.write(Map.of("__type", type, "Message", "fake " + type)), retryAfter);
    }
  }
}
