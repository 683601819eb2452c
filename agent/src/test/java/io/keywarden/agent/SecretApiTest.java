package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.agent.AgentConfig.SecretRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SecretApiTest {

  private static final SecretRef DB = new SecretRef("db-password", "CURRENT");

  @TempDir Path dir;

  private FakeSecretApi server;
  private Path tokenFile;

  @BeforeEach
  void start() throws IOException {
    server = FakeSecretApi.start();
    tokenFile = Files.writeString(dir.resolve("token"), "token-1\n");
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private SecretApi api(String url, String ca) throws ConfigException {
    Map<String, String> env =
        new HashMap<>(
            Map.of(
                "KEYWARDEN_API_URL",
                url,
                "KEYWARDEN_ALLOW_INSECURE_HTTP",
                "true",
                "KEYWARDEN_TOKEN_FILE",
                tokenFile.toString(),
                "KEYWARDEN_NAMESPACE",
                "shop",
                "KEYWARDEN_OUTPUT_DIR",
                dir.toString(),
                "KEYWARDEN_FILES",
                "[{\"file\":\"db\",\"secret\":\"db-password\"}]"));
    if (ca != null) {
      env.put("KEYWARDEN_API_CA", ca);
    }
    return new SecretApi(AgentConfig.fromEnv(env), "test");
  }

  @Test
  void fetchSendsTheBearerTokenAndParsesTheValue() throws Exception {
    String version = server.put("db-password", "s3cret");

    SecretValue value = api(server.url(), null).fetch(DB);

    assertThat(value.versionId()).isEqualTo(version);
    assertThat(value.string()).isEqualTo("s3cret");
    assertThat(value.name()).isEqualTo("db-password");
    assertThat(value.toString()).doesNotContain("s3cret");
    FakeSecretApi.Request request = server.requests().get(0);
    assertThat(request.namespace()).isEqualTo("shop");
    assertThat(request.secret()).isEqualTo("db-password");
    assertThat(request.query()).containsExactly(Map.entry("versionStage", "CURRENT"));
    assertThat(request.authorization()).isEqualTo("Bearer token-1");
  }

  @Test
  void binaryValueIsDecoded() throws Exception {
    server.putBinary("db-password", new byte[] {0, (byte) 0xfe});

    SecretValue value = api(server.url(), null).fetch(DB);

    assertThat(value.isBinary()).isTrue();
    assertThat(value.bytes()).containsExactly(0, 0xfe);
  }

  @Test
  void tokenFileIsReadForEveryRequest() throws Exception {
    server.put("db-password", "s3cret");
    SecretApi api = api(server.url(), null);
    api.fetch(DB);

    Files.writeString(tokenFile, "token-2");
    server.expectToken("token-2");
    api.fetch(DB);

    assertThat(server.requests())
        .extracting(FakeSecretApi.Request::authorization)
        .containsExactly("Bearer token-1", "Bearer token-2");
  }

  @Test
  void emptyOrMissingTokenFileFailsWithoutCallingTheApi() throws Exception {
    server.put("db-password", "s3cret");
    SecretApi api = api(server.url(), null);

    Files.writeString(tokenFile, "\n");
    assertThatThrownBy(() -> api.fetch(DB))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("is empty");
    Files.delete(tokenFile);
    assertThatThrownBy(() -> api.fetch(DB))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cannot read the token file");
    assertThat(server.requests()).isEmpty();
  }

  @Test
  void longPollAnswersWithTheNewVersionAsSoonAsItExists() throws Exception {
    String first = server.put("db-password", "one");
    Thread writer =
        new Thread(
            () -> {
              try {
                Thread.sleep(200);
              } catch (InterruptedException e) {
                return;
              }
              server.put("db-password", "two");
            });
    writer.start();

    long start = System.nanoTime();
    SecretValue changed = api(server.url(), null).waitForChange(DB, first, 30);

    assertThat(changed.string()).isEqualTo("two");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(server.requests().get(0).query())
        .containsEntry("waitForChange", first)
        .containsEntry("timeoutSeconds", "30");
  }

  @Test
  void longPollWithoutChangeEndsWith304AsNull() throws Exception {
    String version = server.put("db-password", "one");

    assertThat(api(server.url(), null).waitForChange(DB, version, 1)).isNull();
    assertThat(server.requests().get(0).status()).isEqualTo(304);
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "400, ValidationException, , ",
    "401, UnauthorizedException, , ",
    "403, AccessDeniedException, , ",
    "404, ResourceNotFoundException, , ",
    "429, ThrottlingException, 7, 7",
    "503, ServiceUnavailableException, 2, 2",
    "503, ServiceUnavailableException, 'Wed, 21 Oct 2026 07:28:00 GMT', ",
    "503, ServiceUnavailableException, 86400, 300"
  })
  void errorsCarryStatusTypeAndRetryAfter(
      int status, String type, String retryAfter, Long expectedSeconds) throws Exception {
    server.put("db-password", "s3cret");
    server.failNext(1, status, type, retryAfter);

    assertThatThrownBy(() -> api(server.url(), null).fetch(DB))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(status);
              assertThat(e.getMessage()).isEqualTo(status + " " + type + ": fake " + type);
              assertThat(e.retryAfter())
                  .isEqualTo(expectedSeconds == null ? null : Duration.ofSeconds(expectedSeconds));
            })
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("token-1"));
  }

  @Test
  void trustsTheConfiguredCaAndOnlyIt() throws Exception {
    TestTls tls = TestTls.get();
    try (FakeSecretApi https = FakeSecretApi.startHttps(tls.serverContext())) {
      https.put("db-password", "over-tls");

      assertThat(api(https.url(), tls.caPem()).fetch(DB).string()).isEqualTo("over-tls");
      assertThatThrownBy(() -> api(https.url(), null).fetch(DB))
          .isInstanceOf(SSLHandshakeException.class);
    }
  }

  @Test
  void connectionRefusedIsAnIoException() throws Exception {
    String url = server.url();
    server.close();

    assertThatThrownBy(() -> api(url, null).fetch(DB)).isInstanceOf(IOException.class);
  }

  @Test
  void successWithoutVersionIdIsRefusedWithoutEchoingTheBody() {
    assertThatThrownBy(() -> SecretValue.fromJson("{\"Name\":\"db\",\"SecretString\":\"hunter2\"}"))
        .hasMessageContaining("no VersionId")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
  }
}
