package io.keywarden.injector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** keywarden.io/mode, the injector's default mode, and what csi mode refuses. */
class InjectionModeParsingTest {

  private static final Map<String, String> ONE_FILE = Map.of("keywarden.io/secret.db", "db");

  @Test
  void sidecarUnlessAnnotatedOrConfigured() {
    assertThat(InjectionConfigParser.parse(ONE_FILE).mode()).isEqualTo(InjectionMode.SIDECAR);
    assertThat(InjectionConfigParser.parse(ONE_FILE, InjectionMode.CSI).mode())
        .isEqualTo(InjectionMode.CSI);
    assertThat(InjectionConfigParser.parse(with(ONE_FILE, "keywarden.io/mode", "csi")).mode())
        .isEqualTo(InjectionMode.CSI);
    assertThat(
            InjectionConfigParser.parse(
                    with(ONE_FILE, "keywarden.io/mode", "sidecar"), InjectionMode.CSI)
                .mode())
        .as("the annotation wins over the injector's default")
        .isEqualTo(InjectionMode.SIDECAR);
  }

  @ParameterizedTest(name = "mode ''{0}''")
  @ValueSource(strings = {"CSI", "Sidecar", "", "node", "csi ", "inline"})
  void anyOtherModeIsDeniedNamingTheAllowedValues(String mode) {
    assertThatThrownBy(() -> InjectionConfigParser.parse(with(ONE_FILE, "keywarden.io/mode", mode)))
        .isInstanceOf(InvalidAnnotationException.class)
        .hasMessage("annotation keywarden.io/mode: mode '" + mode + "' must be sidecar or csi");
  }

  @Test
  void csiModeTakesTheFileAnnotationsAsTheSidecarModeDoes() {
    Map<String, String> annotations =
        Map.of(
            "keywarden.io/mode", "csi",
            "keywarden.io/secret.db.env", "db",
            "keywarden.io/format.db.env", "env",
            "keywarden.io/key.password", "password",
            "keywarden.io/secret.password", "db",
            "keywarden.io/file-mode", "0440",
            "keywarden.io/refresh", "90s",
            "keywarden.io/mount-path", "/etc/app/secrets",
            "keywarden.io/containers", "app",
            "keywarden.io/aws-sdk", "false");
    InjectionConfig csi = InjectionConfigParser.parse(annotations);
    Map<String, String> sidecarAnnotations = new HashMap<>(annotations);
    sidecarAnnotations.remove("keywarden.io/mode");
    InjectionConfig sidecar = InjectionConfigParser.parse(sidecarAnnotations);

    assertThat(csi.mode()).isEqualTo(InjectionMode.CSI);
    assertThat(csi).usingRecursiveComparison().ignoringFields("mode").isEqualTo(sidecar);
  }

  static Stream<Arguments> needsAProcessInThePod() {
    return Stream.of(
        arguments(
            "on-change signal",
            "keywarden.io/on-change",
            "signal:SIGHUP",
            "signal:SIGHUP needs the agent in the pod to send the signal to the app"),
        arguments(
            "on-change exec",
            "keywarden.io/on-change",
            "exec:nginx -s reload",
            "exec: needs the agent in the pod to run the command"),
        arguments(
            "aws-sdk",
            "keywarden.io/aws-sdk",
            "true",
            "the AWS SDK routes need the agent in the pod"),
        arguments(
            "aws-endpoint",
            "keywarden.io/aws-endpoint",
            "true",
            "the loopback Secrets Manager endpoint is served by the agent in the pod"),
        arguments(
            "aws-endpoint-port",
            "keywarden.io/aws-endpoint-port",
            "2773",
            "it is the port of the agent's loopback AWS server in the pod"),
        arguments(
            "aws-region",
            "keywarden.io/aws-region",
            "eu-west-1",
            "it is the region of the AWS SDK route, which needs the agent in the pod"));
  }

  @ParameterizedTest(name = "annotated csi mode refuses {0}")
  @MethodSource("needsAProcessInThePod")
  void csiModeRefusesWhatNeedsAProcessInThePod(
      String name, String annotation, String value, String needs) {
    assertThatThrownBy(
            () ->
                InjectionConfigParser.parse(
                    with(with(ONE_FILE, "keywarden.io/mode", "csi"), annotation, value)))
        .isInstanceOfSatisfying(
            InvalidAnnotationException.class, e -> assertThat(e.annotation()).isEqualTo(annotation))
        .hasMessageStartingWith("annotation " + annotation + ": " + needs)
        .hasMessageContaining(
            ", but in csi mode (keywarden.io/mode: csi) no Keywarden process runs in the pod")
        .hasMessageEndingWith("or set keywarden.io/mode: sidecar");
  }

  @ParameterizedTest(name = "default csi mode refuses {0}")
  @MethodSource("needsAProcessInThePod")
  void csiAsTheDefaultRefusesTheSameAndSaysWhereTheModeCameFrom(
      String name, String annotation, String value, String needs) {
    assertThatThrownBy(
            () -> InjectionConfigParser.parse(with(ONE_FILE, annotation, value), InjectionMode.CSI))
        .hasMessageStartingWith("annotation " + annotation + ": " + needs)
        .hasMessageContaining(", but in csi mode (the injector's default mode)")
        .hasMessageEndingWith("or set keywarden.io/mode: sidecar");
  }

  @ParameterizedTest(name = "sidecar mode still takes {0}")
  @MethodSource("needsAProcessInThePod")
  void sidecarModeTakesThem(String name, String annotation, String value, String needs) {
    Map<String, String> annotations = with(ONE_FILE, annotation, value);
    if (annotation.startsWith("keywarden.io/aws-endpoint-port")
        || annotation.equals("keywarden.io/aws-region")) {
      annotations = with(annotations, "keywarden.io/aws-sdk", "true");
    }
    assertThat(
            InjectionConfigParser.parse(
                    with(annotations, "keywarden.io/mode", "sidecar"), InjectionMode.CSI)
                .mode())
        .isEqualTo(InjectionMode.SIDECAR);
  }

  @Test
  void theSignalRefusalSaysWhatToDo() {
    assertThatThrownBy(
            () ->
                InjectionConfigParser.parse(
                    with(
                        with(ONE_FILE, "keywarden.io/mode", "csi"),
                        "keywarden.io/on-change",
                        "signal:SIGHUP")))
        .hasMessage(
            "annotation keywarden.io/on-change: signal:SIGHUP needs the agent in the pod to send"
                + " the signal to the app, but in csi mode (keywarden.io/mode: csi) no Keywarden"
                + " process runs in the pod: the CSI node plugin writes the files from outside it;"
                + " remove the annotation and let the app reread the files when they change (each"
                + " change is one atomic switch of ..data), or set keywarden.io/mode: sidecar");
  }

  @Test
  void aBadOnChangeValueGetsTheGrammarMessageFirst() {
    assertThatThrownBy(
            () ->
                InjectionConfigParser.parse(
                    with(
                        with(ONE_FILE, "keywarden.io/mode", "csi"),
                        "keywarden.io/on-change",
                        "signal:SIGKILL")))
        .hasMessageStartingWith("annotation keywarden.io/on-change: on-change ");
  }

  @Test
  void csiModeNeedsAFileAndOffersNoAwsWayOut() {
    assertThatThrownBy(() -> InjectionConfigParser.parse(Map.of("keywarden.io/mode", "csi")))
        .hasMessage(
            "annotation keywarden.io/secret.<file>: the pod opted in to injection but names no"
                + " secret; add one annotation per file, its value the ManagedSecret name");
  }

  private static Map<String, String> with(Map<String, String> base, String key, String value) {
    Map<String, String> annotations = new HashMap<>(base);
    annotations.put(key, value);
    return annotations;
  }
}
