package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What Grafana needs of helm/keywarden/dashboards/keywarden.json to import it through the sidecar:
 * a stable uid, a schemaVersion, a Prometheus data source variable that every query uses (so the
 * dashboard works whatever the data source is named), namespace and secret variables, and panel ids
 * unique across rows. That every query returns data is shown on a real Prometheus by the operator's
 * PrometheusIT.
 */
class DashboardTest {

  private static JsonNode dashboard;

  @BeforeAll
  static void read() throws IOException {
    dashboard =
        new ObjectMapper().readTree(Tools.CHART.resolve("dashboards/keywarden.json").toFile());
  }

  @Test
  void hasAStableUidTitleAndSchemaVersion() {
    assertThat(dashboard.path("uid").asText()).matches("[a-z0-9-]{1,40}");
    assertThat(dashboard.path("title").asText()).isNotBlank();
    assertThat(dashboard.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);
    assertThat(dashboard.has("id")).as("no database id: Grafana assigns it").isFalse();
  }

  @Test
  void hasAPrometheusDataSourceVariableAndNamespaceAndSecretVariables() {
    List<String> names = new ArrayList<>();
    JsonNode datasource = null;
    for (JsonNode variable : dashboard.path("templating").path("list")) {
      names.add(variable.path("name").asText());
      if ("datasource".equals(variable.path("type").asText())) {
        datasource = variable;
      }
    }
    assertThat(datasource).as("a variable of type datasource").isNotNull();
    assertThat(datasource.path("name").asText()).isEqualTo("datasource");
    assertThat(datasource.path("query").asText()).isEqualTo("prometheus");
    assertThat(names).contains("namespace", "secret");
  }

  @Test
  void panelIdsAreUniqueAndEveryQueryUsesTheDataSourceVariable() {
    Set<Integer> ids = new HashSet<>();
    List<String> problems = new ArrayList<>();
    List<JsonNode> panels = panels(dashboard.path("panels"));
    assertThat(panels).hasSizeGreaterThan(10);
    for (JsonNode panel : panels) {
      String title = panel.path("title").asText();
      if (!panel.path("id").isInt() || !ids.add(panel.path("id").asInt())) {
        problems.add(title + ": id missing or not unique");
      }
      if (!panel.path("gridPos").has("w") || !panel.path("gridPos").has("h")) {
        problems.add(title + ": no gridPos");
      }
      if ("row".equals(panel.path("type").asText())) {
        continue;
      }
      if (panel.path("targets").isEmpty()) {
        problems.add(title + ": no query");
      }
      for (JsonNode target : panel.path("targets")) {
        if (!"${datasource}".equals(target.path("datasource").path("uid").asText())
            || target.path("expr").asText().isBlank()) {
          problems.add(title + " " + target.path("refId").asText() + ": no expr on ${datasource}");
        }
      }
    }
    for (JsonNode annotation : dashboard.path("annotations").path("list")) {
      if (annotation.has("expr")
          && !"${datasource}".equals(annotation.path("datasource").path("uid").asText())) {
        problems.add("annotation " + annotation.path("name").asText() + ": not on ${datasource}");
      }
    }
    assertThat(problems).isEmpty();
  }

  /** Panels, with those nested in collapsed rows. */
  static List<JsonNode> panels(JsonNode list) {
    List<JsonNode> result = new ArrayList<>();
    for (JsonNode panel : list) {
      result.add(panel);
      result.addAll(panels(panel.path("panels")));
    }
    return result;
  }
}
