package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Checks of the chart's files that need no cluster and no helm binary: the CRD copies, and that
 * values.yaml, values.schema.json and the README's values table describe the same keys.
 */
class ChartFilesTest {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void chartCrdsAreExactCopiesOfTheGeneratedOnes() throws IOException {
    Map<String, String> generated = files(Tools.ROOT.resolve("crds"));
    Map<String, String> inChart = files(Tools.CHART.resolve("crds"));

    assertThat(generated).as("generated CRDs in crds/").isNotEmpty();
    assertThat(inChart)
        .as("helm/keywarden/crds/ must equal crds/*.yml; run `make manifests`")
        .isEqualTo(generated);
  }

  @Test
  void deployRulesAreAnExactCopyOfTheChartRules() {
    assertThat(Tools.read(Tools.ROOT.resolve("deploy/prometheus/keywarden-rules.yaml")))
        .as("deploy/prometheus/keywarden-rules.yaml must equal the chart's; run `make manifests`")
        .isEqualTo(Tools.read(Tools.CHART.resolve("monitoring/keywarden-rules.yaml")));
  }

  @Test
  void everyAlertHasARunbook() {
    String operations = Tools.read(Tools.ROOT.resolve("docs/operations.md"));
    List<String> alerts =
        Tools.read(Tools.CHART.resolve("monitoring/keywarden-rules.yaml"))
            .lines()
            .map(String::strip)
            .filter(line -> line.startsWith("- alert: "))
            .map(line -> line.substring("- alert: ".length()))
            .toList();

    assertThat(alerts).isNotEmpty();
    assertThat(alerts)
        .allSatisfy(
            alert ->
                assertThat(operations)
                    .as("docs/operations.md has a runbook for %s", alert)
                    .contains("\n#### " + alert + "\n\n"));
  }

  @Test
  void schemaDescribesEveryValueAndRefusesUnknownKeys() throws IOException {
    JsonNode schema = JSON.readTree(Tools.CHART.resolve("values.schema.json").toFile());
    JsonNode values = YAML.readTree(Tools.CHART.resolve("values.yaml").toFile());

    List<String> problems = new ArrayList<>();
    checkObject(schema, schema, values, "", problems);

    assertThat(problems)
        .as("values.yaml keys without a schema, or schema objects open to any key")
        .isEmpty();
  }

  @Test
  void readmeTableListsEveryValue() throws IOException {
    JsonNode schema = JSON.readTree(Tools.CHART.resolve("values.schema.json").toFile());
    JsonNode values = YAML.readTree(Tools.CHART.resolve("values.yaml").toFile());
    String readme = Tools.read(Tools.CHART.resolve("README.md"));

    List<String> paths = new ArrayList<>();
    leafPaths(schema, schema, values, "", paths);

    assertThat(paths)
        .isNotEmpty()
        .allSatisfy(
            path ->
                assertThat(readme)
                    .as("helm/keywarden/README.md documents `%s`", path)
                    .contains("| `" + path + "` |"));
  }

  /**
   * Every key of an object in values.yaml must be a declared property of a closed schema object.
   */
  private static void checkObject(
      JsonNode root, JsonNode schema, JsonNode value, String path, List<String> problems) {
    JsonNode resolved = resolve(root, schema);
    if (!value.isObject() || !resolved.has("properties")) {
      return;
    }
    if (!resolved.path("additionalProperties").isBoolean()
        || resolved.path("additionalProperties").asBoolean()) {
      problems.add(path.isEmpty() ? "(root)" : path + ": additionalProperties must be false");
    }
    value
        .fields()
        .forEachRemaining(
            field -> {
              String child = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
              JsonNode property = resolved.path("properties").path(field.getKey());
              if (property.isMissingNode()) {
                problems.add(child + ": not in values.schema.json");
              } else {
                checkObject(root, property, field.getValue(), child, problems);
              }
            });
  }

  /**
   * The paths a user sets: keys of closed schema objects, recursively; an object whose keys are the
   * user's (labels, kms.keys, resources) is one entry.
   */
  private static void leafPaths(
      JsonNode root, JsonNode schema, JsonNode value, String path, List<String> out) {
    JsonNode resolved = resolve(root, schema);
    if (value != null
        && value.isObject()
        && !value.isEmpty()
        && resolved.has("properties")
        && !isOpenKubernetesObject(path)) {
      value
          .fields()
          .forEachRemaining(
              field ->
                  leafPaths(
                      root,
                      resolved.path("properties").path(field.getKey()),
                      field.getValue(),
                      path.isEmpty() ? field.getKey() : path + "." + field.getKey(),
                      out));
    } else {
      out.add(path);
    }
  }

  /** Objects passed to Kubernetes as a whole; the README documents them as one value. */
  private static boolean isOpenKubernetesObject(String path) {
    return path.endsWith(".resources");
  }

  private static JsonNode resolve(JsonNode root, JsonNode schema) {
    JsonNode node = schema;
    while (node.has("$ref")) {
      String ref = node.get("$ref").asText();
      node = root.at(ref.substring(1));
    }
    return node;
  }

  private static Map<String, String> files(Path dir) throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> list = Files.list(dir)) {
      list.filter(f -> f.toString().endsWith(".yml") || f.toString().endsWith(".yaml"))
          .forEach(
              f -> {
                try {
                  files.put(f.getFileName().toString(), Files.readString(f));
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
    return files;
  }
}
