package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The alert rules checked and unit-tested by Prometheus's own promtool: the syntax and templates of
 * every rule, and deploy/prometheus/keywarden-rules.test.yaml, which shows each alert firing after
 * its grace period and silent in the healthy case. .ci/run installs promtool (Debian package
 * prometheus); on a machine without it these tests are skipped, saying so.
 */
class PromtoolTest {

  private static final Path RULES = Tools.ROOT.resolve("deploy/prometheus/keywarden-rules.yaml");
  private static final Path RULE_TESTS =
      Tools.ROOT.resolve("deploy/prometheus/keywarden-rules.test.yaml");

  private static Path promtool;

  @BeforeAll
  static void findPromtool() {
    promtool =
        Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
            .filter(dir -> !dir.isEmpty())
            .map(dir -> Path.of(dir, "promtool"))
            .filter(Files::isExecutable)
            .findFirst()
            .orElse(null);
    assumeTrue(
        promtool != null,
        "promtool is not on PATH: skipping the alert rule checks"
            + " (apt-get install prometheus, as .ci/run does)");
  }

  @Test
  void everyRuleIsValid() {
    Tools.Result result = promtool("check", "rules", RULES.toString());

    assertThat(result.stdout()).contains("SUCCESS");
  }

  @Test
  void everyAlertHasAUnitTestAndTheTestsPass() {
    promtool("test", "rules", RULE_TESTS.toString());

    String tests = Tools.read(RULE_TESTS);
    List<String> alerts =
        Tools.read(RULES)
            .lines()
            .map(String::strip)
            .filter(line -> line.startsWith("- alert: "))
            .map(line -> line.substring("- alert: ".length()))
            .toList();
    assertThat(alerts).hasSizeGreaterThan(5);
    assertThat(alerts)
        .allSatisfy(
            alert ->
                assertThat(tests)
                    .as("keywarden-rules.test.yaml tests %s firing", alert)
                    .containsPattern("alertname: " + alert + "\\n\\s+exp_alerts:\\n\\s+- "));
  }

  private static Tools.Result promtool(String... args) {
    List<String> command = Stream.concat(Stream.of(promtool.toString()), Stream.of(args)).toList();
    Tools.Result result = Tools.run(command, Map.of(), null);
    result.orFail();
    return result;
  }
}
