package io.keywarden.injector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.keywarden.contract.Format;
import io.keywarden.contract.OnChange;
import io.keywarden.contract.Refresh;
import io.keywarden.contract.Signal;
import io.keywarden.contract.Stage;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class InjectionConfigParserTest {

  private static final String DEFAULT_PATH = Annotations.DEFAULT_MOUNT_PATH;

  static Stream<Arguments> validConfigs() {
    return Stream.of(
        arguments(
            "one file, all defaults",
            Map.of("keywarden.io/secret.db-password", "db-password"),
            new InjectionConfig(
                List.of(file("db-password", "db-password")),
                DEFAULT_PATH,
                0644,
                new Refresh.Watch(),
                Optional.empty(),
                List.of())),
        arguments(
            "other annotations are ignored",
            Map.of(
                "keywarden.io/secret.token",
                "api-token",
                "prometheus.io/scrape",
                "true",
                "other.keywarden.io/whatever",
                "x"),
            new InjectionConfig(
                List.of(file("token", "api-token")),
                DEFAULT_PATH,
                0644,
                new Refresh.Watch(),
                Optional.empty(),
                List.of())),
        arguments(
            "per-file key, format and stage; files sorted by name",
            Map.of(
                "keywarden.io/secret.z.json",
                "db.credentials",
                "keywarden.io/key.z.json",
                "password",
                "keywarden.io/format.z.json",
                "json",
                "keywarden.io/stage.z.json",
                "PREVIOUS",
                "keywarden.io/secret.app.env",
                "app-config",
                "keywarden.io/format.app.env",
                "env",
                "keywarden.io/stage.app.env",
                "PENDING",
                "keywarden.io/secret.A_b-1",
                "plain",
                "keywarden.io/format.A_b-1",
                "properties"),
            new InjectionConfig(
                List.of(
                    new SecretFile(
                        "A_b-1", "plain", Optional.empty(), Format.PROPERTIES, Stage.CURRENT),
                    new SecretFile(
                        "app.env", "app-config", Optional.empty(), Format.ENV, Stage.PENDING),
                    new SecretFile(
                        "z.json",
                        "db.credentials",
                        Optional.of("password"),
                        Format.JSON,
                        Stage.PREVIOUS)),
                DEFAULT_PATH,
                0644,
                new Refresh.Watch(),
                Optional.empty(),
                List.of())),
        arguments(
            "every pod-wide annotation",
            Map.of(
                "keywarden.io/secret.tls.key",
                "tls",
                "keywarden.io/mount-path",
                "/etc/app/secrets",
                "keywarden.io/file-mode",
                "0440",
                "keywarden.io/refresh",
                "5m",
                "keywarden.io/on-change",
                "signal:SIGHUP",
                "keywarden.io/containers",
                "app, worker"),
            new InjectionConfig(
                List.of(file("tls.key", "tls")),
                "/etc/app/secrets",
                0440,
                new Refresh.Every(Duration.ofMinutes(5)),
                Optional.of(new OnChange.SendSignal(Signal.HUP)),
                List.of("app", "worker"))),
        arguments(
            "refresh none, seconds interval alternative, exec on change, mode 0400",
            Map.of(
                "keywarden.io/secret.a",
                "a",
                "keywarden.io/refresh",
                "none",
                "keywarden.io/file-mode",
                "0400",
                "keywarden.io/on-change",
                "exec:/bin/reload --graceful"),
            new InjectionConfig(
                List.of(file("a", "a")),
                DEFAULT_PATH,
                0400,
                new Refresh.Never(),
                Optional.of(new OnChange.Exec("/bin/reload --graceful")),
                List.of())),
        arguments(
            "interval in seconds and hours",
            Map.of("keywarden.io/secret.a", "a", "keywarden.io/refresh", "30s"),
            new InjectionConfig(
                List.of(file("a", "a")),
                DEFAULT_PATH,
                0644,
                new Refresh.Every(Duration.ofSeconds(30)),
                Optional.empty(),
                List.of())),
        arguments(
            "maximum mode 0777 and hourly refresh",
            Map.of(
                "keywarden.io/secret.a",
                "a",
                "keywarden.io/file-mode",
                "0777",
                "keywarden.io/refresh",
                "1h"),
            new InjectionConfig(
                List.of(file("a", "a")),
                DEFAULT_PATH,
                0777,
                new Refresh.Every(Duration.ofHours(1)),
                Optional.empty(),
                List.of())));
  }

  static Stream<Arguments> awsConfigs() {
    return Stream.of(
        arguments(
            "aws-sdk alone, no secret files",
            Map.of("keywarden.io/aws-sdk", "true"),
            new InjectionConfig.AwsOptions(true, false, 2773, Optional.empty())),
        arguments(
            "aws-endpoint alone on its own port",
            Map.of("keywarden.io/aws-endpoint", "true", "keywarden.io/aws-endpoint-port", "8080"),
            new InjectionConfig.AwsOptions(false, true, 8080, Optional.empty())),
        arguments(
            "both, with a region, next to a file",
            Map.of(
                "keywarden.io/aws-sdk", "true",
                "keywarden.io/aws-endpoint", "true",
                "keywarden.io/aws-region", "eu-west-1",
                "keywarden.io/secret.db", "db"),
            new InjectionConfig.AwsOptions(true, true, 2773, Optional.of("eu-west-1"))),
        arguments(
            "explicitly off",
            Map.of("keywarden.io/aws-sdk", "false", "keywarden.io/secret.db", "db"),
            InjectionConfig.AwsOptions.NONE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("awsConfigs")
  void parsesAwsAnnotations(
      String name, Map<String, String> annotations, InjectionConfig.AwsOptions expected) {
    assertThat(InjectionConfigParser.parse(annotations).aws()).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validConfigs")
  void parsesValidAnnotations(
      String name, Map<String, String> annotations, InjectionConfig expected) {
    assertThat(InjectionConfigParser.parse(annotations)).isEqualTo(expected);
  }

  static Stream<Arguments> invalidConfigs() {
    return Stream.of(
        invalid("unknown annotation", "keywarden.io/secrets.db", "db"),
        invalid("misspelled pod-wide annotation", "keywarden.io/mountpath", "/etc/secrets"),
        invalid("the opt-in label given as an annotation", "keywarden.io/inject", "true"),
        invalid("path traversal in the file name", "keywarden.io/secret.../etc", "db"),
        invalid("slash in the file name", "keywarden.io/secret.a/b", "db"),
        invalid("file name '..'", "keywarden.io/secret...", "db"),
        invalid("file name '.'", "keywarden.io/secret..", "db"),
        invalid("file name reserved by the atomic writer", "keywarden.io/secret...data", "db"),
        invalid("empty file name", "keywarden.io/secret.", "db"),
        invalid("space in the file name", "keywarden.io/secret.my file", "db"),
        invalid("upper-case ManagedSecret name", "keywarden.io/secret.db", "DB-Password"),
        invalid("empty ManagedSecret name", "keywarden.io/secret.db", ""),
        invalid("unknown format", "keywarden.io/format.db", "xml"),
        invalid("format in the wrong case", "keywarden.io/format.db", "JSON"),
        invalid("AWS-prefixed stage", "keywarden.io/stage.db", "AWSCURRENT"),
        invalid("lower-case stage", "keywarden.io/stage.db", "current"),
        invalid("empty key", "keywarden.io/key.db", ""),
        invalid("relative mount path", "keywarden.io/mount-path", "secrets"),
        invalid("mount path '/'", "keywarden.io/mount-path", "/"),
        invalid("mount path with '..'", "keywarden.io/mount-path", "/var/run/../../etc"),
        invalid("mount path with a trailing slash", "keywarden.io/mount-path", "/var/run/secrets/"),
        invalid("mount path with an empty segment", "keywarden.io/mount-path", "/var//secrets"),
        invalid("file mode with setuid", "keywarden.io/file-mode", "04755"),
        invalid("file mode in decimal", "keywarden.io/file-mode", "420"),
        invalid("file mode with a non-octal digit", "keywarden.io/file-mode", "0648"),
        invalid("file mode the owner cannot read", "keywarden.io/file-mode", "0044"),
        invalid("refresh in days", "keywarden.io/refresh", "1d"),
        invalid("refresh of zero", "keywarden.io/refresh", "0s"),
        invalid("refresh without unit", "keywarden.io/refresh", "30"),
        invalid("signal that is not allowed", "keywarden.io/on-change", "signal:SIGKILL"),
        invalid("exec without a command", "keywarden.io/on-change", "exec: "),
        invalid("exec across lines", "keywarden.io/on-change", "exec:reload\nrm -rf /"),
        invalid("on-change without a kind", "keywarden.io/on-change", "SIGHUP"),
        invalid("upper-case container name", "keywarden.io/containers", "App"),
        invalid("empty container entry", "keywarden.io/containers", "app,,worker"),
        invalid("container listed twice", "keywarden.io/containers", "app,app"),
        invalid("aws-sdk not a flag", "keywarden.io/aws-sdk", "yes"),
        invalid("aws-endpoint in upper case", "keywarden.io/aws-endpoint", "True"),
        invalid("aws-endpoint-port below 1024", "keywarden.io/aws-endpoint-port", "80"),
        invalid("aws-region in upper case", "keywarden.io/aws-region", "US-EAST-1"),
        arguments(
            "endpoint port without the endpoint",
            Map.of("keywarden.io/secret.db", "db", "keywarden.io/aws-endpoint-port", "8080"),
            "keywarden.io/aws-endpoint-port"),
        arguments(
            "endpoint port with the endpoint switched off",
            Map.of("keywarden.io/aws-endpoint", "false", "keywarden.io/aws-endpoint-port", "8080"),
            "keywarden.io/aws-endpoint-port"),
        arguments(
            "region without aws-sdk",
            Map.of("keywarden.io/aws-endpoint", "true", "keywarden.io/aws-region", "eu-west-1"),
            "keywarden.io/aws-region"),
        arguments(
            "both AWS routes off and no secret",
            Map.of("keywarden.io/aws-sdk", "false", "keywarden.io/aws-endpoint", "false"),
            "keywarden.io/secret.<file>"),
        arguments(
            "key without a secret annotation",
            Map.of("keywarden.io/secret.db", "db", "keywarden.io/key.dbb", "password"),
            "keywarden.io/key.dbb"),
        arguments(
            "format without a secret annotation",
            Map.of("keywarden.io/secret.db", "db", "keywarden.io/format.other", "json"),
            "keywarden.io/format.other"),
        arguments(
            "stage without a secret annotation",
            Map.of("keywarden.io/secret.db", "db", "keywarden.io/stage.other", "CURRENT"),
            "keywarden.io/stage.other"),
        arguments(
            "no secret annotation at all",
            Map.of("keywarden.io/refresh", "watch"),
            "keywarden.io/secret.<file>"),
        arguments(
            "first bad annotation in key order is reported",
            Map.of(
                "keywarden.io/secret.db",
                "db",
                "keywarden.io/refresh",
                "soon",
                "keywarden.io/format.db",
                "xml",
                "keywarden.io/zzz",
                "1"),
            "keywarden.io/format.db"));
  }

  /** One bad annotation next to an otherwise valid file {@code db}. */
  private static Arguments invalid(String name, String annotation, String value) {
    Map<String, String> annotations = new HashMap<>();
    annotations.put("keywarden.io/secret.db", "db");
    annotations.put(annotation, value);
    return arguments(name, annotations, annotation);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidConfigs")
  void refusesNamingTheAnnotation(String name, Map<String, String> annotations, String annotation) {
    assertThatThrownBy(() -> InjectionConfigParser.parse(annotations))
        .isInstanceOfSatisfying(
            InvalidAnnotationException.class, e -> assertThat(e.annotation()).isEqualTo(annotation))
        .hasMessageStartingWith("annotation " + annotation + ": ");
  }

  @Test
  void messageSaysWhatToFix() {
    assertThatThrownBy(
            () ->
                InjectionConfigParser.parse(
                    Map.of("keywarden.io/secret.db", "db", "keywarden.io/format.db", "xml")))
        .hasMessage(
            "annotation keywarden.io/format.db: unknown format 'xml' (expected raw, json, env or properties)");
  }

  @Test
  void longMultiLineValuesAreShortenedToOneLineInTheMessage() {
    String value = "exec:" + "x".repeat(100) + "\n" + "y".repeat(100);
    assertThatThrownBy(
            () ->
                InjectionConfigParser.parse(
                    Map.of("keywarden.io/secret.db", "db", "keywarden.io/on-change", value)))
        .message()
        .doesNotContain("\n", "yyy")
        .contains("'exec:" + "x".repeat(59) + "...'");
  }

  private static SecretFile file(String fileName, String secretName) {
    return new SecretFile(fileName, secretName, Optional.empty(), Format.RAW, Stage.CURRENT);
  }
}
