package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The container-credentials relay against a local stand-in for the operator's {@code GET
 * /v1/aws/credentials}: the app's own Authorization goes through (never the agent's token), the
 * answer comes back unchanged whatever its status, and what is not the SDK's call never reaches the
 * API. boto3 through the real agent on the real node: AwsDirectRoutePodIT.
 */
class CredentialsRelayTest {

  private static final String CREDENTIALS =
      "{\"AccessKeyId\":\"KWIA1\",\"SecretAccessKey\":\"s\",\"Token\":\"t\","
          + "\"Expiration\":\"2030-01-01T00:00:00Z\"}";

  @TempDir Path dir;

  private HttpServer operator;
  private final List<String> seen = Collections.synchronizedList(new ArrayList<>());
  private volatile int answerStatus = 200;
  private SecretApi api;
  private CredentialsRelay relay;
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    operator = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    operator.createContext("/", this::answer);
    operator.start();
    AgentConfig config =
        AgentConfig.fromEnv(
            Map.of(
                "KEYWARDEN_API_URL",
                "http://127.0.0.1:" + operator.getAddress().getPort(),
                "KEYWARDEN_ALLOW_INSECURE_HTTP",
                "true",
                "KEYWARDEN_TOKEN_FILE",
                Files.writeString(dir.resolve("token"), "agent-token\n").toString(),
                "KEYWARDEN_NAMESPACE",
                "shop",
                "KEYWARDEN_OUTPUT_DIR",
                dir.toString(),
                "KEYWARDEN_FILES",
                "[]",
                "KEYWARDEN_AWS_CREDENTIALS_PORT",
                "2773"));
    assertThat(config.awsCredentialsPort()).hasValue(2773);
    api = new SecretApi(config, "test");
    relay = CredentialsRelay.start(0, api, new Log(new PrintStream(log, true)));
  }

  @AfterEach
  void stop() {
    relay.close();
    api.close();
    operator.stop(0);
  }

  private void answer(HttpExchange exchange) throws IOException {
    try (exchange) {
      seen.add(
          exchange.getRequestMethod()
              + " "
              + exchange.getRequestURI()
              + " "
              + exchange.getRequestHeaders().getFirst("Authorization"));
      byte[] body =
          (answerStatus == 200 ? CREDENTIALS : "{\"message\":\"token refused\"}")
              .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(answerStatus, body.length);
      exchange.getResponseBody().write(body);
    }
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theSdksCallGoesToTheApiWithTheAppsOwnAuthorization() throws Exception {
    assertThat(relay.uri()).startsWith("http://127.0.0.1:").endsWith("/v1/aws/credentials");

    HttpResponse<String> answer =
        send(HttpRequest.newBuilder(URI.create(relay.uri())).header("Authorization", "app-jwt"));

    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo(CREDENTIALS);
    assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(seen).containsExactly("GET /v1/aws/credentials app-jwt");
    assertThat(log.toString()).doesNotContain("app-jwt").doesNotContain("KWIA1");
  }

  @Test
  void theApisRefusalComesBackUnchanged() throws Exception {
    answerStatus = 401;

    HttpResponse<String> answer =
        send(HttpRequest.newBuilder(URI.create(relay.uri())).header("Authorization", "expired"));

    assertThat(answer.statusCode()).isEqualTo(401);
    assertThat(answer.body()).isEqualTo("{\"message\":\"token refused\"}");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "no Authorization: the agent never adds its own token, GET, /v1/aws/credentials, , 401",
    "another path, GET, /v1/aws/other, app-jwt, 404",
    "a query string, GET, /v1/aws/credentials?x=1, app-jwt, 404",
    "another method, POST, /v1/aws/credentials, app-jwt, 405",
  })
  void whatIsNotTheSdksCallNeverReachesTheApi(
      String name, String method, String path, String authorization, int status) throws Exception {
    String base = relay.uri().substring(0, relay.uri().indexOf("/v1/"));
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (authorization != null) {
      request.header("Authorization", authorization);
    }

    assertThat(send(request).statusCode()).isEqualTo(status);
    assertThat(seen).isEmpty();
  }

  @Test
  void requestsThroughAProxyAreRefused() throws Exception {
    HttpResponse<String> answer =
        send(
            HttpRequest.newBuilder(URI.create(relay.uri()))
                .header("Authorization", "app-jwt")
                .header("X-Forwarded-For", "10.0.0.1"));

    assertThat(answer.statusCode()).isEqualTo(400);
    assertThat(seen).isEmpty();
  }
}
