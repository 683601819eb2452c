package io.keywarden.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.keywarden.api.v1alpha1.RotationSchedule;
import io.keywarden.operator.api.ApiClient;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.operator.it.PrometheusServer;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The metrics, the dashboard and the alert rules on a real Prometheus scraping a real operator:
 * after reads, denied reads, a successful, a failing and a hanging rotation, every panel query of
 * helm/keywarden/dashboards/keywarden.json returns series, every alert expression evaluates, and
 * KeywardenRotationFailing and KeywardenRotationOverdue fire for the right secrets.
 *
 * <p>The rules are the chart's file with every {@code for:} set to 0s (the only change), so that an
 * alert fires at the first evaluation instead of after its production grace period.
 */
@KubernetesIT
class PrometheusIT {

  private static final Path ROOT = RepositoryRoot.find();
  private static final ObjectMapper JSON = new ObjectMapper();

  private static OperatorFixture fixture;
  private static PrometheusServer prometheus;
  private static HangingTlsServer hangingHook;

  @BeforeAll
  static void start(TestCluster cluster) throws Exception {
    fixture =
        new OperatorFixture(cluster, Map.of("KEYWARDEN_ROTATION_MINIMUM_INTERVAL", "1m")).start();
    // The hook strategy asks for a token of the operator's ServiceAccount.
    fixture
        .client
        .serviceAccounts()
        .inNamespace(fixture.namespace)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName("keywarden-operator")
                .endMetadata()
                .build())
        .create();
    String rules =
        Files.readString(ROOT.resolve("helm/keywarden/monitoring/keywarden-rules.yaml"))
            .replaceAll("(?m)^(\\s+)for: \\S+$", "$1for: 0s");
    prometheus = PrometheusServer.start("127.0.0.1:" + fixture.operator.httpPort(), rules);
    // A hook that completes the TLS handshake and never answers: the rotation hangs until its
    // timeout.
    hangingHook = HangingTlsServer.start();
  }

  @AfterAll
  static void stop() throws IOException {
    if (hangingHook != null) {
      hangingHook.close();
    }
    if (prometheus != null) {
      prometheus.close();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void dashboardPanelsReturnSeriesAndRotationAlertsFire(TestNamespace ns) throws Exception {
    String n = ns.name();
    // A rotation that hangs once it falls due, a minute from now (the shortest rate): scheduled
    // first, so that its minute passes while the rest is set up.
    generated(n, "slow", "[]");
    schedule(
        n,
        "slow-rotation",
        "rate(1 minute)",
        false,
        hook(hangingHook.port(), 240, hangingHook.certificatePem()),
        "slow");
    // A secret read by its grantee and refused to a stranger, rotated once successfully.
    generated(n, "db", "[{name: app}]");
    schedule(n, "db-rotation", "rate(1 day)", true, "{type: generate}", "db");
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> fixture.get(n, "db").getStatus().getLastRotatedAt() != null);
    ApiClient api = new ApiClient("https://127.0.0.1:" + fixture.apiPort, fixture.apiCa());
    String app = fixture.serviceAccountToken(n, "app", "keywarden.io");
    String stranger = fixture.serviceAccountToken(n, "stranger", "keywarden.io");
    String value = "/v1/namespaces/" + n + "/managedsecrets/db/value";
    for (int i = 0; i < 3; i++) {
      answers(api, value, app, 200);
      answers(api, value, stranger, 403);
    }
    // An agent waiting for the next change.
    String current = fixture.get(n, "db").getStatus().getCurrentVersionId();
    CompletableFuture<HttpResponse<String>> waiting =
        api.getAsync(value + "?waitForChange=" + current + "&timeoutSeconds=240", app);

    // A rotation that fails (nothing listens at the hook).
    generated(n, "broken", "[]");
    schedule(n, "broken-rotation", "rate(1 day)", true, hook(closedPort(), 5, null), "broken");

    // One scrape may time out on a busy machine (the timeout is the 1 s interval); the target must
    // come up, and stay up for the alerts below.
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () ->
                assertThat(prometheus.query("up{job=\"keywarden-operator\"} == 1"))
                    .as("operator scraped; targets: %s", prometheus.targets())
                    .hasSize(1));

    // The failing rotation fires at once; the overdue one once its minute has passed.
    await()
        .atMost(Duration.ofSeconds(180))
        .pollInterval(Duration.ofSeconds(2))
        .untilAsserted(
            () ->
                assertThat(firing())
                    .contains(
                        "KeywardenRotationFailing " + n + "/broken",
                        "KeywardenRotationOverdue " + n + "/slow"));
    assertThat(firing())
        .noneMatch(a -> a.endsWith(n + "/db"))
        .doesNotContain("KeywardenRotationFailing " + n + "/slow");
    RotationSchedule broken =
        fixture
            .client
            .resources(RotationSchedule.class)
            .inNamespace(n)
            .withName("broken-rotation")
            .get();
    assertThat(broken.getStatus().getLastResult().getResult().name()).isEqualTo("Failed");
    assertThat(
            prometheus.query(
                "keywarden_rotationschedule_last_result{namespace=\""
                    + n
                    + "\",name=\"broken-rotation\",result=\"Failed\"} == 1"))
        .hasSize(1);
    assertThat(
            prometheus.query(
                "keywarden_api_reads_total{namespace=\"" + n + "\",outcome=\"denied\"} >= 3"))
        .hasSize(1);

    // Every panel of the dashboard, and every annotation, returns series for this namespace.
    JsonNode dashboard =
        JSON.readTree(ROOT.resolve("helm/keywarden/dashboards/keywarden.json").toFile());
    List<String> empty = new ArrayList<>();
    for (JsonNode panel : panels(dashboard.path("panels"))) {
      if (panel.path("targets").isEmpty()) {
        continue;
      }
      List<String> queries = new ArrayList<>();
      panel.path("targets").forEach(t -> queries.add(expand(t.path("expr").asText(), n)));
      if (!returnsSeries(queries)) {
        empty.add(panel.path("title").asText() + " " + queries);
      }
    }
    for (JsonNode annotation : dashboard.path("annotations").path("list")) {
      if (annotation.has("expr")
          && !returnsSeries(List.of(expand(annotation.path("expr").asText(), n)))) {
        empty.add("annotation " + annotation.path("name").asText());
      }
    }
    assertThat(empty).as("panels without series").isEmpty();

    // Every alert expression is valid PromQL that Prometheus evaluates.
    for (JsonNode group : prometheusRules().path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        prometheus.query(rule.path("query").asText());
      }
    }
    waiting.cancel(true);
  }

  /**
   * Waits for a GET to answer the status: RBAC reaches the authorizer a moment after it is written,
   * and a loaded machine may refuse a connection now and then.
   */
  private static void answers(ApiClient api, String path, String token, int status) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .until(() -> api.get(path, token).statusCode() == status);
  }

  /** Queries of one panel: at least one returns a series within a minute (rates need samples). */
  private static boolean returnsSeries(List<String> queries) {
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofSeconds(2))
          .until(
              () -> {
                for (String query : queries) {
                  if (!prometheus.query(query).isEmpty()) {
                    return true;
                  }
                }
                return false;
              });
      return true;
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      return false;
    }
  }

  /** Grafana's variables as the dashboard would set them for this namespace and all secrets. */
  private static String expand(String expr, String namespace) {
    return expr.replace("$namespace", namespace)
        .replace("$secret", ".*")
        .replace("$__rate_interval", "1m");
  }

  private static List<JsonNode> panels(JsonNode list) {
    List<JsonNode> result = new ArrayList<>();
    for (JsonNode panel : list) {
      result.add(panel);
      result.addAll(panels(panel.path("panels")));
    }
    return result;
  }

  /** Firing alerts as "name namespace/secret". */
  private static List<String> firing() throws Exception {
    List<String> result = new ArrayList<>();
    for (JsonNode alert : prometheus.alerts()) {
      if ("firing".equals(alert.path("state").asText())) {
        JsonNode labels = alert.path("labels");
        result.add(
            labels.path("alertname").asText()
                + " "
                + labels.path("namespace").asText()
                + "/"
                + labels.path("name").asText());
      }
    }
    return result;
  }

  private static JsonNode prometheusRules() throws Exception {
    return prometheus.rules();
  }

  private static String hook(int port, int timeoutSeconds, String caPem) {
    return "{type: hook, hook: {url: 'https://127.0.0.1:"
        + port
        + "/rotate', timeoutSeconds: "
        + timeoutSeconds
        + (caPem == null ? "" : ", caBundle: \"" + caPem.replace("\n", "\\n") + "\"")
        + "}}";
  }

  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** A ManagedSecret with a generated value (rotations generate the next one), once Ready. */
  private static void generated(String ns, String name, String access) {
    fixture.apply(
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: %s}
        spec:
          generate: {passwordLength: 24}
          access: %s
        """
            .formatted(name, access));
    fixture.awaitReady(ns, name);
  }

  private static void schedule(
      String ns, String name, String rate, boolean immediately, String strategy, String secret) {
    RotationSchedule rs =
        fixture
            .client
            .getKubernetesSerialization()
            .unmarshal(
                """
                apiVersion: keywarden.io/v1alpha1
                kind: RotationSchedule
                metadata: {name: %s}
                spec:
                  secretRef: {name: %s}
                  schedule: %s
                  rotateImmediately: %s
                  strategy: %s
                """
                    .formatted(name, secret, rate, immediately, strategy),
                RotationSchedule.class);
    fixture.client.resources(RotationSchedule.class).inNamespace(ns).resource(rs).create();
  }
}
