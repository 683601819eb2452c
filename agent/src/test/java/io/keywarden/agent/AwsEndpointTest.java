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
 * The loopback endpoint against a local stand-in for the operator's {@code POST /} that records
 * what reaches it and answers what the test says: forwarding, the headers kept and dropped, the
 * token re-read, the AWS agent paths, and every refusal (which must not reach the API at all).
 */
class AwsEndpointTest {

  private static final String AWS_JSON = "application/x-amz-json-1.1";

  @TempDir Path dir;

  private HttpServer operator;
  private final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
  private volatile int answerStatus = 200;
  private volatile String answerBody = "{\"Name\":\"db\",\"SecretString\":\"s3cr3t\"}";
  private Path tokenFile;
  private Path ssrfFile;
  private SecretApi api;
  private AwsEndpoint endpoint;
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final HttpClient http = HttpClient.newHttpClient();

  /** One request as the stand-in operator saw it. */
  record Seen(
      String method,
      String path,
      String authorization,
      String target,
      String contentType,
      String securityToken,
      String body) {}

  @BeforeEach
  void start() throws Exception {
    operator = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    operator.createContext("/", this::answer);
    operator.start();
    tokenFile = Files.writeString(dir.resolve("token"), "pod-token-1\n");
    ssrfFile = Files.writeString(dir.resolve("ssrf"), "ssrf-1\n");
    AgentConfig config =
        AgentConfig.fromEnv(
            Map.of(
                "KEYWARDEN_API_URL",
                "http://127.0.0.1:" + operator.getAddress().getPort(),
                "KEYWARDEN_ALLOW_INSECURE_HTTP",
                "true",
                "KEYWARDEN_TOKEN_FILE",
                tokenFile.toString(),
                "KEYWARDEN_NAMESPACE",
                "shop",
                "KEYWARDEN_OUTPUT_DIR",
                dir.toString(),
                "KEYWARDEN_FILES",
                "[]",
                "KEYWARDEN_AWS_ENDPOINT_PORT",
                "2773",
                "AWS_TOKEN",
                "file://" + ssrfFile));
    api = new SecretApi(config, "test");
    endpoint =
        AwsEndpoint.start(
            0, api, config.ssrfToken().orElseThrow(), new Log(new PrintStream(log, true)));
  }

  @AfterEach
  void stop() {
    endpoint.close();
    api.close();
    operator.stop(0);
  }

  private void answer(HttpExchange exchange) throws IOException {
    try (exchange) {
      var headers = exchange.getRequestHeaders();
      seen.add(
          new Seen(
              exchange.getRequestMethod(),
              exchange.getRequestURI().toString(),
              headers.getFirst("Authorization"),
              headers.getFirst("X-Amz-Target"),
              headers.getFirst("Content-Type"),
              headers.getFirst("X-Amz-Security-Token"),
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
      byte[] body = answerBody.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", AWS_JSON);
      exchange.sendResponseHeaders(answerStatus, body.length);
      exchange.getResponseBody().write(body);
    }
  }

  private URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + endpoint.port() + pathAndQuery);
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder sdkCall(String target, String body) {
    // What boto3 sends, signed with the app's own (here made-up) AWS credentials.
    return HttpRequest.newBuilder(uri("/"))
        .header("X-Amz-Target", target)
        .header("Content-Type", AWS_JSON)
        .header("X-Amz-Date", "20261130T081500Z")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/us-east-1/secretsmanager/aws4_request,"
                + " SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=abc")
        .header("X-Amz-Security-Token", "the-apps-real-aws-session-token")
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  @Test
  void forwardsTheProtocolWithThePodsTokenInsteadOfTheAppsSignature() throws Exception {
    HttpResponse<String> response =
        send(sdkCall("secretsmanager.GetSecretValue", "{\"SecretId\":\"db\"}"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue(AWS_JSON);
    assertThat(response.body()).isEqualTo(answerBody);
    assertThat(seen)
        .containsExactly(
            new Seen(
                "POST",
                "/",
                "Bearer pod-token-1",
                "secretsmanager.GetSecretValue",
                AWS_JSON,
                null,
                "{\"SecretId\":\"db\"}"));
  }

  @Test
  void passesTheApisErrorsBackUnchanged() throws Exception {
    answerStatus = 404;
    answerBody = "{\"__type\":\"ResourceNotFoundException\",\"Message\":\"no secret shop/nope\"}";

    HttpResponse<String> response =
        send(sdkCall("secretsmanager.DescribeSecret", "{\"SecretId\":\"nope\"}"));

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.headers().firstValue("Content-Type")).hasValue(AWS_JSON);
    assertThat(response.body()).isEqualTo(answerBody);
    assertThat(seen)
        .singleElement()
        .extracting(Seen::target)
        .isEqualTo("secretsmanager.DescribeSecret");
  }

  @Test
  void readsTheRotatedTokenForEveryRequest() throws Exception {
    send(sdkCall("secretsmanager.GetSecretValue", "{}"));
    Files.writeString(tokenFile, "pod-token-2\n");
    send(sdkCall("secretsmanager.GetSecretValue", "{}"));

    assertThat(seen)
        .extracting(Seen::authorization)
        .containsExactly("Bearer pod-token-1", "Bearer pod-token-2");
  }

  @Test
  void apiUnreachableIsARetryableAwsError() throws Exception {
    operator.stop(0);

    HttpResponse<String> response = send(sdkCall("secretsmanager.GetSecretValue", "{}"));

    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(response.body()).startsWith("{\"__type\":\"InternalServiceError\",\"Message\":");
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("AWS endpoint: the Keywarden API did not answer")
        .doesNotContain("pod-token");
  }

  @ParameterizedTest(name = "{0} {1} {2} is refused with {3} {4}")
  @CsvSource(
      delimiter = '|',
      value = {
        // A GET-based request forgery: no headers at all.
        "GET | / | | 403 | AccessDeniedException",
        "GET | /?Action=GetSecretValue&SecretId=db | | 403 | AccessDeniedException",
        // The protocol's headers on a GET are not the protocol.
        "GET | / | target,type | 403 | AccessDeniedException",
        "POST | / | | 400 | UnknownOperationException",
        "POST | / | type | 400 | UnknownOperationException",
        "POST | / | kms-target,type | 400 | UnknownOperationException",
        "POST | / | prefix-target,type | 400 | UnknownOperationException",
        "POST | / | target | 400 | SerializationException",
        "POST | / | target,json-type | 400 | SerializationException",
        "POST | /?x=1 | target,type | 400 | InvalidRequestException",
        "POST | / | target,type,forwarded | 400 | InvalidRequestException",
        "PUT | / | target,type | 403 | AccessDeniedException",
        "POST | /other | target,type | 403 | AccessDeniedException",
        "GET | /secretsmanager/get?secretId=db | | 403 | AccessDeniedException",
        "GET | /secretsmanager/get?secretId=db | wrong-token | 403 | AccessDeniedException",
        "GET | /secretsmanager/get?secretId=db | token,forwarded | 400 | InvalidRequestException",
        "GET | /v1/db | forwarded | 400 | InvalidRequestException",
        "POST | /secretsmanager/get?secretId=db | token | 405 | InvalidRequestException",
        "GET | /secretsmanager/get | token | 400 | InvalidParameterException",
        "GET | /secretsmanager/get?secretId= | token | 400 | InvalidParameterException",
        "GET | /secretsmanager/get?secretId=db&x=1 | token | 400 | InvalidParameterException",
        "GET | /secretsmanager/get?secretId=db&refreshNow=maybe | token | 400 | InvalidParameterException",
        "GET | /v1/db?secretId=other | token | 400 | InvalidParameterException",
        "GET | /v1/ | token | 400 | InvalidParameterException",
        "GET | / | token | 404 | UnknownOperationException",
        "GET | /latest/meta-data/ | token | 404 | UnknownOperationException",
        "POST | /ping | | 405 | InvalidRequestException"
      })
  void refusals(String method, String path, String headers, int status, String type)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri(path))
            .method(
                method,
                method.equals("GET")
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString("{\"SecretId\":\"db\"}"));
    for (String header : headers == null ? new String[0] : headers.split(",")) {
      switch (header) {
        case "target" -> request.header("X-Amz-Target", "secretsmanager.GetSecretValue");
        case "kms-target" -> request.header("X-Amz-Target", "TrentService.Decrypt");
        case "prefix-target" -> request.header("X-Amz-Target", "secretsmanager.");
        case "type" -> request.header("Content-Type", AWS_JSON);
        case "json-type" -> request.header("Content-Type", "application/json");
        case "forwarded" -> request.header("X-Forwarded-For", "10.0.0.1");
        case "token" -> request.header("X-Aws-Parameters-Secrets-Token", "ssrf-1");
        case "wrong-token" -> request.header("X-Aws-Parameters-Secrets-Token", "ssrf-2");
        default -> throw new IllegalArgumentException(header);
      }
    }

    HttpResponse<String> response = send(request);

    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type")).hasValue(AWS_JSON);
    assertThat(response.body()).startsWith("{\"__type\":\"" + type + "\",\"Message\":\"");
    assertThat(seen).isEmpty();
  }

  @Test
  void aBodyOverTheLimitIsRefused() throws Exception {
    HttpResponse<String> response =
        send(sdkCall("secretsmanager.PutSecretValue", "x".repeat(AwsEndpoint.MAX_BODY + 1)));

    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(seen).isEmpty();
  }

  @Test
  void pingNeedsNoToken() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/ping")).GET());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("healthy");
    assertThat(seen).isEmpty();
  }

  @ParameterizedTest(name = "{0} with {1} asks GetSecretValue {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "/secretsmanager/get?secretId=db | X-Aws-Parameters-Secrets-Token | {\"SecretId\":\"db\"}",
        "/secretsmanager/get?secretId=shop%2Fdb&versionStage=AWSPREVIOUS&refreshNow=TRUE"
            + " | X-Aws-Parameters-Secrets-Token | {\"SecretId\":\"shop/db\",\"VersionStage\":\"AWSPREVIOUS\"}",
        "/secretsmanager/get?versionId=v-1&secretId=a+b | X-Vault-Token | {\"SecretId\":\"a b\",\"VersionId\":\"v-1\"}",
        "/v1/db | X-Vault-Token | {\"SecretId\":\"db\"}",
        "/v1/shop/db?versionStage=AWSCURRENT&refreshNow=0 | X-Aws-Parameters-Secrets-Token"
            + " | {\"SecretId\":\"shop/db\",\"VersionStage\":\"AWSCURRENT\"}",
        "/v1/arn:aws:secretsmanager:us-east-1:000000000000:secret:shop/db-AbCdEf"
            + " | X-Aws-Parameters-Secrets-Token"
            + " | {\"SecretId\":\"arn:aws:secretsmanager:us-east-1:000000000000:secret:shop/db-AbCdEf\"}"
      })
  void agentPathsBecomeGetSecretValue(String path, String header, String expectedBody)
      throws Exception {
    HttpResponse<String> response =
        send(HttpRequest.newBuilder(uri(path)).header(header, "ssrf-1").GET());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(answerBody);
    assertThat(seen)
        .containsExactly(
            new Seen(
                "POST",
                "/",
                "Bearer pod-token-1",
                "secretsmanager.GetSecretValue",
                AWS_JSON,
                null,
                expectedBody));
  }

  @Test
  void theSsrfTokenFileIsReadForEveryRequest() throws Exception {
    Files.writeString(ssrfFile, "ssrf-2\n");

    HttpResponse<String> old =
        send(
            HttpRequest.newBuilder(uri("/v1/db"))
                .header("X-Aws-Parameters-Secrets-Token", "ssrf-1")
                .GET());
    HttpResponse<String> current =
        send(
            HttpRequest.newBuilder(uri("/v1/db"))
                .header("X-Aws-Parameters-Secrets-Token", "ssrf-2")
                .GET());

    assertThat(old.statusCode()).isEqualTo(403);
    assertThat(current.statusCode()).isEqualTo(200);
  }
}
