package io.keywarden.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.keywarden.contract.AwsSdkEnv;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * The pod's loopback relay of the AWS SDKs' container-credentials call ({@code
 * keywarden.io/aws-sdk} on the direct route): {@code GET /v1/aws/credentials} on
 * http://127.0.0.1:<port> is sent to the operator API's same path over HTTPS, trusting the API's
 * CA, with the app's own {@code Authorization} header (the content of its token file), and the
 * answer comes back unchanged.
 *
 * <p>Why: botocore (boto3, the AWS CLI) fetches container credentials over a connection of its own
 * that trusts only the certifi package's CAs and ignores {@code AWS_CA_BUNDLE}, so it cannot reach
 * an API certificate signed by Keywarden's own CA; it accepts plain HTTP for a loopback full URI.
 *
 * <p>The relay adds no authority: it forwards the caller's token, never the agent's, so a request
 * without the pod's token gets the API's refusal, exactly as EKS Pod Identity's agent requires the
 * token; a GET a server-side request forgery makes carries no {@code Authorization}. Nothing is
 * logged but failures to reach the API; never a token or a credential.
 */
final class CredentialsRelay implements AutoCloseable {

  private final HttpServer server;
  private final SecretApi api;
  private final Log log;

  private CredentialsRelay(HttpServer server, SecretApi api, Log log) {
    this.server = server;
    this.api = api;
    this.log = log;
    // The SDKs call once per credential lifetime (at most an hour): one thread is plenty.
    server.setExecutor(
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(null, runnable, "aws-credentials", 256 * 1024);
              thread.setDaemon(true);
              return thread;
            }));
    server.createContext("/", this::handle);
  }

  /** Listens on 127.0.0.1:{@code port} (0: any free port, for tests). */
  static CredentialsRelay start(int port, SecretApi api, Log log) throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
    CredentialsRelay relay = new CredentialsRelay(server, api, log);
    server.start();
    log.info("AWS credentials relay listening on " + relay.uri());
    return relay;
  }

  /** The value of AWS_CONTAINER_CREDENTIALS_FULL_URI for this relay. */
  String uri() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + AwsSdkEnv.CREDENTIALS_PATH;
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      AwsEndpoint.Reply reply = relay(exchange);
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
    } catch (IOException e) {
      // The app closed its connection; nothing to answer.
    }
  }

  private AwsEndpoint.Reply relay(HttpExchange exchange) {
    if (!exchange.getRequestURI().getRawPath().equals(AwsSdkEnv.CREDENTIALS_PATH)
        || exchange.getRequestURI().getRawQuery() != null) {
      return AwsEndpoint.Reply.error(
          404, "NotFound", "this relay serves GET " + AwsSdkEnv.CREDENTIALS_PATH + " only");
    }
    if (!exchange.getRequestMethod().equals("GET")) {
      return AwsEndpoint.Reply.error(405, "MethodNotAllowed", "GET only");
    }
    if (exchange.getRequestHeaders().containsKey("X-Forwarded-For")) {
      return AwsEndpoint.Reply.error(400, "InvalidRequest", "requests through a proxy are refused");
    }
    String authorization = exchange.getRequestHeaders().getFirst("Authorization");
    if (authorization == null || authorization.isBlank()) {
      return AwsEndpoint.Reply.error(
          401,
          "Unauthorized",
          "send the pod's keywarden.io token as Authorization ("
              + AwsSdkEnv.CONTAINER_AUTHORIZATION_TOKEN_FILE
              + ")");
    }
    try {
      return AwsEndpoint.Reply.of(api.credentials(authorization.strip()));
    } catch (IOException e) {
      log.error(
          "AWS credentials relay: the Keywarden API did not answer: " + SecretWatcher.describe(e));
      return new AwsEndpoint.Reply(
          502,
          "application/json",
          "{\"message\":\"the Keywarden agent cannot reach the Keywarden API\"}"
              .getBytes(StandardCharsets.UTF_8));
    }
  }
}
