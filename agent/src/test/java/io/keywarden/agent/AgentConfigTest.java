package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.agent.AgentConfig.FileSpec;
import io.keywarden.agent.AgentConfig.OnChange;
import io.keywarden.agent.AgentConfig.Refresh;
import io.keywarden.agent.AgentConfig.SecretRef;
import io.keywarden.contract.Format;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AgentConfigTest {

  @TempDir Path dir;

  private Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("KEYWARDEN_API_URL", "https://keywarden.keywarden-system.svc:8443/");
    env.put("KEYWARDEN_TOKEN_FILE", "/var/run/secrets/tokens/keywarden");
    env.put("KEYWARDEN_NAMESPACE", "shop");
    env.put("KEYWARDEN_OUTPUT_DIR", dir.toString());
    env.put(
        "KEYWARDEN_FILES",
        "[{\"file\":\"db\",\"secret\":\"db-password\",\"key\":null,\"format\":\"raw\",\"stage\":\"CURRENT\"}]");
    return env;
  }

  @Test
  void minimalEnvironmentGetsTheDocumentedDefaults() throws Exception {
    AgentConfig config = AgentConfig.fromEnv(env());

    assertThat(config.apiUrl())
        .isEqualTo(URI.create("https://keywarden.keywarden-system.svc:8443"));
    assertThat(config.caCertificates()).isEmpty();
    assertThat(config.tokenFile()).isEqualTo(Path.of("/var/run/secrets/tokens/keywarden"));
    assertThat(config.namespace()).isEqualTo("shop");
    assertThat(config.files())
        .containsExactly(
            new FileSpec("db", new SecretRef("db-password", "CURRENT"), null, Format.RAW));
    assertThat(config.fileMode()).isEqualTo(0644);
    assertThat(config.refresh().mode()).isEqualTo(Refresh.Mode.WATCH);
    assertThat(config.onChange()).isEqualTo(OnChange.NOTHING);
    assertThat(config.oneShot()).isFalse();
    assertThat(config.watchTimeoutSeconds()).isEqualTo(60);
  }

  @Test
  void everyVariableSet() throws Exception {
    Map<String, String> env = env();
    env.put(
        "KEYWARDEN_FILES",
        "[{\"file\":\"db.env\",\"secret\":\"db\",\"format\":\"env\"},"
            + "{\"file\":\"password\",\"secret\":\"db\",\"key\":\"password\",\"stage\":\"PREVIOUS\"},"
            + "{\"file\":\"app.properties\",\"secret\":\"app.config\",\"format\":\"properties\"}]");
    env.put("KEYWARDEN_FILE_MODE", "0440");
    env.put("KEYWARDEN_REFRESH", "1h30m");
    env.put("KEYWARDEN_ON_CHANGE", "signal:SIGHUP");
    env.put("KEYWARDEN_ONE_SHOT", "TRUE");
    env.put("KEYWARDEN_WATCH_TIMEOUT_SECONDS", "300");

    AgentConfig config = AgentConfig.fromEnv(env);

    assertThat(config.files())
        .extracting(FileSpec::file)
        .containsExactly("db.env", "password", "app.properties");
    assertThat(config.files().get(1))
        .isEqualTo(
            new FileSpec("password", new SecretRef("db", "PREVIOUS"), "password", Format.RAW));
    assertThat(config.secretRefs())
        .containsExactly(
            new SecretRef("db", "CURRENT"),
            new SecretRef("db", "PREVIOUS"),
            new SecretRef("app.config", "CURRENT"));
    assertThat(config.fileMode()).isEqualTo(0440);
    assertThat(config.refresh())
        .isEqualTo(new Refresh(Refresh.Mode.INTERVAL, Duration.ofMinutes(90)));
    assertThat(config.onChange()).isEqualTo(new OnChange(OnChange.Kind.SIGNAL, "HUP", null));
    assertThat(config.oneShot()).isTrue();
    assertThat(config.watchTimeoutSeconds()).isEqualTo(300);
  }

  static Stream<Arguments> validValues() {
    return Stream.of(
        Arguments.of("KEYWARDEN_REFRESH", "none", "none"),
        Arguments.of("KEYWARDEN_REFRESH", "watch", "watch"),
        Arguments.of("KEYWARDEN_REFRESH", "30s", "every 30s"),
        Arguments.of("KEYWARDEN_REFRESH", "5m", "every 300s"),
        Arguments.of("KEYWARDEN_REFRESH", "1h", "every 3600s"),
        Arguments.of("KEYWARDEN_ON_CHANGE", "signal:SIGHUP", "signal:SIGHUP"),
        Arguments.of("KEYWARDEN_ON_CHANGE", "signal:SIGUSR1", "signal:SIGUSR1"),
        Arguments.of("KEYWARDEN_ON_CHANGE", "signal:SIGWINCH", "signal:SIGWINCH"),
        Arguments.of("KEYWARDEN_REFRESH", "1h30m", "every 5400s"),
        Arguments.of("KEYWARDEN_ON_CHANGE", "exec:nginx -s reload", "exec"),
        Arguments.of("KEYWARDEN_ON_CHANGE", "", "none"),
        Arguments.of("KEYWARDEN_FILE_MODE", "0400", "256"),
        Arguments.of("KEYWARDEN_FILE_MODE", "0777", "511"));
  }

  @ParameterizedTest(name = "{0}={1}")
  @MethodSource("validValues")
  void acceptsValidValues(String variable, String value, String expected) throws Exception {
    Map<String, String> env = env();
    env.put(variable, value);

    AgentConfig config = AgentConfig.fromEnv(env);

    Object actual =
        switch (variable) {
          case "KEYWARDEN_REFRESH" -> config.refresh();
          case "KEYWARDEN_ON_CHANGE" -> config.onChange();
          default -> config.fileMode();
        };
    assertThat(actual).hasToString(expected);
  }

  @Test
  void httpNeedsTheExplicitInsecureSwitch() throws Exception {
    Map<String, String> env = env();
    env.put("KEYWARDEN_API_URL", "http://127.0.0.1:8080");
    env.put("KEYWARDEN_ALLOW_INSECURE_HTTP", "true");

    assertThat(AgentConfig.fromEnv(env).apiUrl()).isEqualTo(URI.create("http://127.0.0.1:8080"));
  }

  @Test
  void caFileIsReadAtStart() throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.crt"), TestTls.get().caPem());
    Map<String, String> env = env();
    env.put("KEYWARDEN_API_CA_FILE", ca.toString());

    assertThat(AgentConfig.fromEnv(env).caCertificates()).hasSize(1);
  }

  static Stream<Arguments> invalidValues() {
    return Stream.of(
        // variable to set (null value = remove it), value, the name the message must start with, a
        // hint it contains
        Arguments.of("KEYWARDEN_API_URL", null, "KEYWARDEN_API_URL", "is required"),
        Arguments.of("KEYWARDEN_API_URL", "  ", "KEYWARDEN_API_URL", "is required"),
        Arguments.of(
            "KEYWARDEN_API_URL",
            "http://keywarden:8080",
            "KEYWARDEN_API_URL",
            "KEYWARDEN_ALLOW_INSECURE_HTTP"),
        Arguments.of("KEYWARDEN_API_URL", "ftp://keywarden", "KEYWARDEN_API_URL", "https://"),
        Arguments.of("KEYWARDEN_API_URL", "https://", "KEYWARDEN_API_URL", "not a URL"),
        Arguments.of("KEYWARDEN_API_URL", "https:///v1", "KEYWARDEN_API_URL", "no host"),
        Arguments.of(
            "KEYWARDEN_API_URL",
            "https://keywarden?x=1",
            "KEYWARDEN_API_URL",
            "without user info, query"),
        Arguments.of(
            "KEYWARDEN_API_URL",
            "https://user:pw@keywarden",
            "KEYWARDEN_API_URL",
            "without user info, query"),
        Arguments.of(
            "KEYWARDEN_API_CA",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "KEYWARDEN_API_CA",
            "certificates"),
        Arguments.of(
            "KEYWARDEN_API_CA_FILE", "/nonexistent/ca.crt", "KEYWARDEN_API_CA_FILE", "cannot read"),
        Arguments.of("KEYWARDEN_TOKEN_FILE", null, "KEYWARDEN_TOKEN_FILE", "is required"),
        Arguments.of("KEYWARDEN_NAMESPACE", null, "KEYWARDEN_NAMESPACE", "is required"),
        Arguments.of("KEYWARDEN_NAMESPACE", "Shop", "KEYWARDEN_NAMESPACE", "namespace name"),
        Arguments.of(
            "KEYWARDEN_OUTPUT_DIR",
            "/nonexistent/keywarden",
            "KEYWARDEN_OUTPUT_DIR",
            "not a directory"),
        Arguments.of("KEYWARDEN_FILES", null, "KEYWARDEN_FILES", "is required"),
        Arguments.of("KEYWARDEN_FILES", "db=db-password", "KEYWARDEN_FILES", "not JSON"),
        Arguments.of("KEYWARDEN_FILES", "[]", "KEYWARDEN_FILES", "non-empty JSON array"),
        Arguments.of(
            "KEYWARDEN_FILES", "{\"file\":\"db\"}", "KEYWARDEN_FILES", "non-empty JSON array"),
        Arguments.of("KEYWARDEN_FILES", "[\"db\"]", "KEYWARDEN_FILES[0]", "must be an object"),
        Arguments.of(
            "KEYWARDEN_FILES", "[{\"secret\":\"db\"}]", "KEYWARDEN_FILES[0].file", "is required"),
        Arguments.of(
            "KEYWARDEN_FILES", "[{\"file\":\"db\"}]", "KEYWARDEN_FILES[0].secret", "is required"),
        Arguments.of(
            "KEYWARDEN_FILES",
            "[{\"file\":\"../etc/passwd\",\"secret\":\"db\"}]",
            "KEYWARDEN_FILES[0].file",
            "plain name"),
        Arguments.of(
            "KEYWARDEN_FILES",
            "[{\"file\":\"..data\",\"secret\":\"db\"}]",
            "KEYWARDEN_FILES[0].file",
            "plain name"),
        Arguments.of(
            "KEYWARDEN_FILES",
            "[{\"file\":\"a\",\"secret\":\"db\"},{\"file\":\"a\",\"secret\":\"x\"}]",
            "KEYWARDEN_FILES[1].file",
            "listed twice"),
        Arguments.of(
            "KEYWARDEN_FILES",
            "[{\"file\":\"a\",\"secret\":\"DB/../x\"}]",
            "KEYWARDEN_FILES[0].secret",
            "not a ManagedSecret name"),
        Arguments.of(
            "KEYWARDEN_FILES",
            "[{\"file\":\"a\",\"secret\":1}]",
            "KEYWARDEN_FILES[0].secret",
            "must be a string"),
        Arguments.of(
            "KEYWARDEN_FILES",
            "[{\"file\":\"a\",\"secret\":\"db\",\"key\":\"\"}]",
            "KEYWARDEN_FILES[0].key",
            "must not be empty"),
        Arguments.of(
            "KEYWARDEN_FILES",
            "[{\"file\":\"a\",\"secret\":\"db\",\"format\":\"yaml\"}]",
            "KEYWARDEN_FILES[0].format",
            "raw, json, env or properties"),
        Arguments.of(
            "KEYWARDEN_FILES",
            "[{\"file\":\"a\",\"secret\":\"db\",\"stage\":\"CURRENT&x=1\"}]",
            "KEYWARDEN_FILES[0].stage",
            "expected CURRENT, PREVIOUS or PENDING"),
        Arguments.of(
            "KEYWARDEN_FILES",
            "[{\"file\":\"a\",\"secret\":\"db\",\"mode\":\"0400\"}]",
            "KEYWARDEN_FILES[0].mode",
            "unknown field"),
        Arguments.of("KEYWARDEN_FILE_MODE", "644x", "KEYWARDEN_FILE_MODE", "octal"),
        Arguments.of("KEYWARDEN_FILE_MODE", "420", "KEYWARDEN_FILE_MODE", "octal"),
        Arguments.of("KEYWARDEN_FILE_MODE", "0844", "KEYWARDEN_FILE_MODE", "octal"),
        Arguments.of("KEYWARDEN_FILE_MODE", "04755", "KEYWARDEN_FILE_MODE", "octal"),
        Arguments.of("KEYWARDEN_FILE_MODE", "0044", "KEYWARDEN_FILE_MODE", "owner read"),
        Arguments.of(
            "KEYWARDEN_REFRESH", "always", "KEYWARDEN_REFRESH", "watch, none, or an interval"),
        Arguments.of("KEYWARDEN_REFRESH", "30", "KEYWARDEN_REFRESH", "watch, none, or an interval"),
        Arguments.of(
            "KEYWARDEN_REFRESH", "5m junk", "KEYWARDEN_REFRESH", "watch, none, or an interval"),
        Arguments.of("KEYWARDEN_REFRESH", "0s", "KEYWARDEN_REFRESH", "at least 1s"),
        Arguments.of(
            "KEYWARDEN_ON_CHANGE",
            "signal:SIGKILL",
            "KEYWARDEN_ON_CHANGE",
            "unsupported signal 'SIGKILL'"),
        Arguments.of(
            "KEYWARDEN_ON_CHANGE", "signal:HUP", "KEYWARDEN_ON_CHANGE", "unsupported signal 'HUP'"),
        Arguments.of(
            "KEYWARDEN_ON_CHANGE", "exec:", "KEYWARDEN_ON_CHANGE", "needs a non-blank command"),
        Arguments.of(
            "KEYWARDEN_ON_CHANGE", "reload", "KEYWARDEN_ON_CHANGE", "must be signal:SIG<NAME>"),
        Arguments.of("KEYWARDEN_ONE_SHOT", "yes", "KEYWARDEN_ONE_SHOT", "true or false"),
        Arguments.of(
            "KEYWARDEN_ALLOW_INSECURE_HTTP", "1", "KEYWARDEN_ALLOW_INSECURE_HTTP", "true or false"),
        Arguments.of(
            "KEYWARDEN_WATCH_TIMEOUT_SECONDS",
            "301",
            "KEYWARDEN_WATCH_TIMEOUT_SECONDS",
            "from 1 to 300"),
        Arguments.of(
            "KEYWARDEN_WATCH_TIMEOUT_SECONDS",
            "1m",
            "KEYWARDEN_WATCH_TIMEOUT_SECONDS",
            "from 1 to 300"));
  }

  @ParameterizedTest(name = "{0}={1}")
  @MethodSource("invalidValues")
  void refusesInvalidValuesNamingTheVariable(
      String variable, String value, String named, String hint) {
    Map<String, String> env = env();
    if (value == null) {
      env.remove(variable);
    } else {
      env.put(variable, value);
    }

    assertThatThrownBy(() -> AgentConfig.fromEnv(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(named + ": ")
        .hasMessageContaining(hint);
  }

  @Test
  void caTextAndCaFileTogetherAreRefused() {
    Map<String, String> env = env();
    env.put("KEYWARDEN_API_CA", TestTls.get().caPem());
    env.put("KEYWARDEN_API_CA_FILE", "/etc/ca.crt");

    assertThatThrownBy(() -> AgentConfig.fromEnv(env))
        .hasMessageStartingWith("KEYWARDEN_API_CA_FILE: set either");
  }

  @Test
  void awsRoutesAllowAPodWithoutSecretFiles() throws Exception {
    Map<String, String> env = env();
    env.put("KEYWARDEN_FILES", "[]");
    env.put("KEYWARDEN_AWS_ENDPOINT_PORT", "2773");
    env.put("AWS_SESSION_TOKEN", "ignored: AWS_TOKEN comes first");
    env.put("AWS_TOKEN", "file:///var/run/secrets/keywarden-token/token");

    AgentConfig config = AgentConfig.fromEnv(env);

    assertThat(config.files()).isEmpty();
    assertThat(config.awsEndpointPort()).hasValue(2773);
    assertThat(config.ssrfToken())
        .hasValue(
            new AgentConfig.SsrfToken(
                "AWS_TOKEN", null, Path.of("/var/run/secrets/keywarden-token/token")));
    assertThat(config.awsDir()).isEmpty();
  }

  @Test
  void theSsrfTokenIsLookedUpInAwsOrderAndNeverPrinted() throws Exception {
    Map<String, String> env = env();
    env.put("KEYWARDEN_AWS_ENDPOINT_PORT", "8080");
    env.put("AWS_CONTAINER_AUTHORIZATION_TOKEN", "later");
    env.put("AWS_SESSION_TOKEN", "secret-session-token");

    AgentConfig.SsrfToken token = AgentConfig.fromEnv(env).ssrfToken().orElseThrow();

    assertThat(token.current()).isEqualTo("secret-session-token");
    assertThat(token.toString()).isEqualTo("AWS_SESSION_TOKEN=<redacted>");
  }

  static Stream<Arguments> invalidAwsValues() {
    return Stream.of(
        Arguments.of(
            Map.of("KEYWARDEN_AWS_ENDPOINT_PORT", "80", "AWS_TOKEN", "t"),
            "KEYWARDEN_AWS_ENDPOINT_PORT: port '80' must be a number from 1024 to 65535"),
        Arguments.of(
            Map.of("KEYWARDEN_AWS_ENDPOINT_PORT", "2773"),
            "AWS_TOKEN: is required with KEYWARDEN_AWS_ENDPOINT_PORT"),
        Arguments.of(
            Map.of("KEYWARDEN_AWS_ENDPOINT_PORT", "2773", "AWS_TOKEN", "file://relative/token"),
            "AWS_TOKEN: file:// needs an absolute path"),
        Arguments.of(
            Map.of("KEYWARDEN_AWS_DIR", "/nonexistent/aws"), "KEYWARDEN_AWS_DIR: not a directory"),
        Arguments.of(
            Map.of("KEYWARDEN_FILES", "[]"), "KEYWARDEN_FILES: must be a non-empty JSON array"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("invalidAwsValues")
  void invalidAwsSettingsNameTheVariable(Map<String, String> set, String message) {
    Map<String, String> env = env();
    env.putAll(set);

    assertThatThrownBy(() -> AgentConfig.fromEnv(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(message);
  }

  @Test
  void theAwsDirectoryNeedsTheApiCa() throws Exception {
    Map<String, String> env = env();
    env.put("KEYWARDEN_AWS_DIR", dir.toString());

    assertThatThrownBy(() -> AgentConfig.fromEnv(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("KEYWARDEN_AWS_DIR: needs the API CA");
  }
}
