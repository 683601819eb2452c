package io.keywarden.injector.mutation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.keywarden.contract.FileSet;
import io.keywarden.contract.FileSetParser;
import io.keywarden.injector.InjectionConfig;
import io.keywarden.injector.InjectionConfigParser;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The csi volume's attributes say exactly what the annotations say: rendered, then parsed by the
 * grammar the node plugin parses them with ({@link FileSetParser} without prefix, as {@code
 * io.keywarden.csi.PodVolume} does), they give the file set the annotations gave.
 */
class CsiVolumeTest {

  static Stream<Arguments> annotationSets() {
    return Stream.of(
        arguments(
            "one file, all defaults",
            Map.of("keywarden.io/secret.db", "db"),
            Map.of(
                "secret.db", "db",
                "format.db", "raw",
                "stage.db", "CURRENT",
                "file-mode", "0644",
                "refresh", "watch")),
        arguments(
            "key, format, stage, mode and an interval in canonical spelling",
            Map.of(
                "keywarden.io/secret.password", "db-credentials",
                "keywarden.io/key.password", "password",
                "keywarden.io/secret.db.env", "db-credentials",
                "keywarden.io/format.db.env", "env",
                "keywarden.io/stage.db.env", "PREVIOUS",
                "keywarden.io/file-mode", "0440",
                "keywarden.io/refresh", "90s"),
            Map.of(
                "secret.password", "db-credentials",
                "key.password", "password",
                "format.password", "raw",
                "stage.password", "CURRENT",
                "secret.db.env", "db-credentials",
                "format.db.env", "env",
                "stage.db.env", "PREVIOUS",
                "file-mode", "0440",
                "refresh", "1m30s")),
        arguments(
            "refresh none, json, a key with spaces and unicode",
            Map.of(
                "keywarden.io/secret.cfg.json", "app.config",
                "keywarden.io/format.cfg.json", "json",
                "keywarden.io/key.cfg.json", "the key é",
                "keywarden.io/refresh", "none",
                "keywarden.io/mode", "csi"),
            Map.of(
                "secret.cfg.json", "app.config",
                "key.cfg.json", "the key é",
                "format.cfg.json", "json",
                "stage.cfg.json", "CURRENT",
                "file-mode", "0644",
                "refresh", "none")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("annotationSets")
  void attributesAreTheAnnotationsInTheOneGrammar(
      String name, Map<String, String> annotations, Map<String, String> expected) {
    InjectionConfig config = InjectionConfigParser.parse(annotations);

    Map<String, String> attributes = CsiVolume.attributes(config);

    assertThat(attributes).containsExactlyInAnyOrderEntriesOf(expected);
    assertThat(pluginReads(attributes)).isEqualTo(annotationsSay(annotations));
  }

  @ParameterizedTest(name = "driver ''{0}''")
  @ValueSource(strings = {"", "-csi.keywarden.io", "csi.keywarden.io.", "csi/keywarden", "a b"})
  void aBadDriverNameIsRefusedNamingTheSetting(String driver) {
    assertThatThrownBy(() -> CsiVolume.driverName("keywarden.injector.csi-driver", driver))
        .hasMessageStartingWith(
            "keywarden.injector.csi-driver '" + driver + "' is not a CSI driver name");
  }

  @ParameterizedTest(name = "driver ''{0}''")
  @ValueSource(strings = {"csi.keywarden.io", "secrets.example.com", "Keywarden_CSI"})
  void driverNames(String driver) {
    assertThat(CsiVolume.driverName("keywarden.injector.csi-driver", driver)).isEqualTo(driver);
  }

  /** What the node plugin parses from the volume attributes. */
  private static FileSet pluginReads(Map<String, String> attributes) {
    FileSetParser parser = new FileSetParser("", "volume attribute", attributes.keySet());
    attributes.forEach(
        (key, value) -> assertThat(parser.accept(key, value)).as("attribute %s", key).isTrue());
    return parser.result();
  }

  /** What the same grammar makes of the pod's file annotations. */
  private static FileSet annotationsSay(Map<String, String> annotations) {
    Map<String, String> files = new HashMap<>(annotations);
    files.remove("keywarden.io/mode");
    FileSetParser parser = new FileSetParser("keywarden.io/", "annotation", files.keySet());
    files.forEach((key, value) -> assertThat(parser.accept(key, value)).isTrue());
    FileSet set = parser.result();
    assertThat(set.files()).isNotEmpty();
    return set;
  }
}
