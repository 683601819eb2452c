package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One-shot mode (an init container) and the exit codes of {@link Agent#run}. */
class AgentTest {

  @TempDir Path dir;

  private FakeSecretApi server;
  private Path out;
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void start() throws IOException {
    server = FakeSecretApi.start();
    out = Files.createDirectory(dir.resolve("out"));
    server.expectToken("token-1");
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Map<String, String> oneShotEnv() throws IOException {
    Map<String, String> env = new HashMap<>();
    env.put("KEYWARDEN_API_URL", server.url());
    env.put("KEYWARDEN_ALLOW_INSECURE_HTTP", "true");
    env.put("KEYWARDEN_TOKEN_FILE", Files.writeString(dir.resolve("token"), "token-1").toString());
    env.put("KEYWARDEN_NAMESPACE", "shop");
    env.put("KEYWARDEN_OUTPUT_DIR", out.toString());
    env.put(
        "KEYWARDEN_FILES",
        "[{\"file\":\"password\",\"secret\":\"db\",\"key\":\"password\"},"
            + "{\"file\":\"api.key\",\"secret\":\"api-key\"}]");
    env.put("KEYWARDEN_ONE_SHOT", "true");
    return env;
  }

  private int run(Map<String, String> env) throws InterruptedException {
    return Agent.run(env, new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String logged() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void oneShotWritesEveryFileAndExitsZero() throws Exception {
    server.put("db", "{\"password\":\"s3cret\"}");
    server.put("api-key", "k-123");

    assertThat(run(oneShotEnv())).isZero();

    assertThat(out.resolve("password")).hasContent("s3cret");
    assertThat(out.resolve("api.key")).hasContent("k-123");
    assertThat(server.requests()).hasSize(2).noneMatch(FakeSecretApi.Request::isLongPoll);
    assertThat(logged())
        .contains("INFO keywarden-agent")
        .contains("starting: 2 files from 2 secrets in namespace shop")
        .contains("INFO wrote 2 files to " + out)
        .doesNotContain("s3cret")
        .doesNotContain("token-1");
  }

  @Test
  void oneShotExitsOneWhenTheApiRefusesAndWritesNothing() throws Exception {
    server.put("db", "{\"password\":\"s3cret\"}");
    server.put("api-key", "k-123");
    server.failNext(1, 403, "AccessDeniedException", null);

    assertThat(run(oneShotEnv())).isEqualTo(1);

    assertThat(out).isEmptyDirectory();
    assertThat(logged())
        .contains("ERROR fetching secret db failed: ApiException: 403 AccessDeniedException");
  }

  @Test
  void oneShotExitsOneWhenTheApiIsUnreachable() throws Exception {
    Map<String, String> env = oneShotEnv();
    server.close();

    assertThat(run(env)).isEqualTo(1);
    assertThat(out).isEmptyDirectory();
  }

  @Test
  void oneShotExitsOneWhenAFileCannotBeRendered() throws Exception {
    server.put("db", "not JSON");
    server.put("api-key", "k-123");

    assertThat(run(oneShotEnv())).isEqualTo(1);

    assertThat(out).isEmptyDirectory();
    assertThat(logged())
        .contains("ERROR file password (secret db): key password needs a JSON secret");
  }

  @Test
  void oneShotRefusesAnEnvFileShellsCannotSourceNamingFileAndKey() throws Exception {
    server.put("db", "{\"password\":\"s3c\\u0000ret\"}");
    server.put("api-key", "k-123");
    Map<String, String> env = oneShotEnv();
    env.put(
        "KEYWARDEN_FILES",
        "[{\"file\":\"db.env\",\"secret\":\"db\",\"format\":\"env\"},"
            + "{\"file\":\"api.key\",\"secret\":\"api-key\"}]");

    assertThat(run(env)).isEqualTo(1);

    assertThat(out).isEmptyDirectory();
    assertThat(logged())
        .contains(
            "ERROR file db.env (secret db): key password holds a NUL character, which sh and bash"
                + " cannot keep in a variable")
        .doesNotContain("s3c");
  }

  @Test
  void oneShotOverAnEarlierRunReplacesTheFilesAndKeepsThemOnFailure() throws Exception {
    server.put("db", "{\"password\":\"one\"}");
    server.put("api-key", "k-123");
    assertThat(run(oneShotEnv())).isZero();

    server.setDown(true);
    assertThat(run(oneShotEnv())).isEqualTo(1);
    assertThat(out.resolve("password")).hasContent("one");

    server.setDown(false);
    server.put("db", "{\"password\":\"two\"}");
    assertThat(run(oneShotEnv())).isZero();
    assertThat(out.resolve("password")).hasContent("two");
  }

  @Test
  void badConfigurationExitsTwoNamingTheVariable() throws Exception {
    Map<String, String> env = oneShotEnv();
    env.put("KEYWARDEN_REFRESH", "sometimes");

    assertThat(run(env)).isEqualTo(2);

    assertThat(logged())
        .contains(
            "ERROR invalid configuration: KEYWARDEN_REFRESH: refresh 'sometimes' must be watch,"
                + " none, or an interval");
    assertThat(server.requests()).isEmpty();
  }

  @Test
  void emptyEnvironmentExitsTwo() throws Exception {
    assertThat(run(Map.of())).isEqualTo(2);
    assertThat(logged()).contains("KEYWARDEN_API_URL: is required");
  }
}
