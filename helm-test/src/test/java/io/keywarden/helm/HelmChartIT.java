package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The chart as users meet it: lint, render, apply, install, upgrade, uninstall, on the real
 * apiserver.
 */
@KubernetesIT
class HelmChartIT {

  private static final Path ALL_OPTIONS =
      Tools.ROOT.resolve("helm-test/src/test/resources/all-options.yaml");

  @Test
  void lintPassesInStrictModeWithDefaultsAndWithEveryOption(TestCluster cluster) {
    Tools tools = new Tools(cluster);

    assertThat(tools.helm("lint", "--strict", Tools.CHART.toString()).orFail())
        .contains("0 chart(s) failed");
    assertThat(
            tools
                .helm("lint", "--strict", Tools.CHART.toString(), "-f", ALL_OPTIONS.toString())
                .orFail())
        .contains("0 chart(s) failed");
  }

  @Test
  void renderedChartIsAcceptedByTheApiserver(TestCluster cluster, TestNamespace ns) {
    Tools tools = new Tools(cluster);
    installStandInCrd(cluster.admin(), "servicemonitor-crd.yaml");
    installStandInCrd(cluster.admin(), "prometheusrule-crd.yaml");

    for (List<String> values : List.of(List.<String>of(), List.of("-f", ALL_OPTIONS.toString()))) {
      String rendered =
          tools
              .helm(
                  concat(
                      List.of(
                          "template",
                          Release.NAME,
                          Tools.CHART.toString(),
                          "--namespace",
                          ns.name()),
                      values))
              .orFail();
      // Force: in a shared cluster the CRDs and cluster-wide objects may have other field managers.
      String applied =
          tools
              .kubectlWithInput(
                  rendered,
                  "apply",
                  "--server-side",
                  "--force-conflicts",
                  "--dry-run=server",
                  "-f",
                  "-")
              .orFail();

      long objects = rendered.lines().filter(line -> line.startsWith("kind:")).count();
      assertThat(applied.lines().filter(line -> line.endsWith("(server dry run)")).count())
          .as("objects accepted with values %s:%n%s", values, applied)
          .isEqualTo(objects);
    }
  }

  @ParameterizedTest(name = "{0} is refused, naming {1}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
      operator.replicas=0                          | /operator/replicas
      operator.replikas=3                          | replikas
      injector.webhook.failurePolicy=Sometimes     | /injector/webhook/failurePolicy
      injector.webhook.timeoutSeconds=60           | /injector/webhook/timeoutSeconds
      kms.keys.prod.provider=vault                 | /kms/keys/prod/provider
      kms.keys.Prod_Key.provider=local             | Prod_Key
      operator.image.pullPolicy=Sometimes          | /operator/image/pullPolicy
      injector.tls.renewBefore=a-month             | /injector/tls/renewBefore
      operator.config.log\\.level=DEBUG            | log.level
      aws.region=US_EAST_1                         | /aws/region
      aws.accountId=12345                          | /aws/accountId
      injector.defaultMode=daemon                  | /injector/defaultMode
      csi.volumeSizeLimit=1GB                      | /csi/volumeSizeLimit
      csi.kubeletDir=var/lib/kubelet               | /csi/kubeletDir
      csi.enabeld=true                             | enabeld
      """)
  void schemaRefusesABadValueNamingIt(String setting, String named, TestCluster cluster) {
    Tools tools = new Tools(cluster);

    Tools.Result result =
        tools.helm("template", Release.NAME, Tools.CHART.toString(), "--set", setting);

    assertThat(result.exitCode()).as("helm template --set %s", setting).isNotZero();
    assertThat(result.stderr())
        .contains("values don't meet the specifications of the schema")
        .contains(named);
  }

  @Test
  void awsRegionAndAccountReachTheOperatorsArnsAndTheInjectorsApps(TestCluster cluster) {
    Tools.Result result =
        new Tools(cluster)
            .helm(
                "template",
                Release.NAME,
                Tools.CHART.toString(),
                "--set",
                "aws.region=eu-west-3",
                "--set-string",
                "aws.accountId=123456789012");

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout())
        .contains("    keywarden.aws.region=eu-west-3\n")
        .contains("    keywarden.aws.account-id=123456789012\n")
        .containsPattern("- name: KEYWARDEN_INJECTOR_AWS_REGION\\n\\s+value: \"eu-west-3\"\\n");
    String defaults =
        new Tools(cluster).helm("template", Release.NAME, Tools.CHART.toString()).stdout();
    assertThat(defaults)
        .contains("    keywarden.aws.region=us-east-1\n")
        .contains("    keywarden.aws.account-id=000000000000\n");
  }

  @Test
  void defaultKeyMustBeAConfiguredKey(TestCluster cluster) {
    Tools.Result result =
        new Tools(cluster)
            .helm(
                "template", Release.NAME, Tools.CHART.toString(), "--set", "kms.defaultKeyId=prod");

    assertThat(result.exitCode()).isNotZero();
    assertThat(result.stderr())
        .contains("kms.defaultKeyId: \"prod\" is not one of kms.keys (default)");
  }

  @Test
  void prometheusRuleAndDashboardCarryTheirFilesVerbatim(TestCluster cluster) throws Exception {
    String rendered =
        new Tools(cluster)
            .helm(
                "template",
                Release.NAME,
                Tools.CHART.toString(),
                "--namespace",
                "keywarden-system",
                "-f",
                ALL_OPTIONS.toString())
            .orFail();
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    JsonNode rule = null;
    JsonNode dashboard = null;
    for (JsonNode document :
        yaml.readValues(yaml.createParser(rendered), JsonNode.class).readAll()) {
      if ("PrometheusRule".equals(document.path("kind").asText())) {
        rule = document;
      } else if ("keywarden-dashboard".equals(document.path("metadata").path("name").asText())) {
        dashboard = document;
      }
    }

    assertThat(rule).as("a PrometheusRule").isNotNull();
    assertThat(rule.path("metadata").path("labels").path("release").asText())
        .isEqualTo("prometheus");
    assertThat(rule.path("spec"))
        .isEqualTo(yaml.readTree(Tools.CHART.resolve("monitoring/keywarden-rules.yaml").toFile()));
    assertThat(dashboard).as("the dashboard ConfigMap").isNotNull();
    assertThat(dashboard.path("metadata").path("labels").path("grafana_dashboard").asText())
        .isEqualTo("1");
    assertThat(dashboard.path("metadata").path("annotations").path("grafana_folder").asText())
        .isEqualTo("Keywarden");
    assertThat(new ObjectMapper().readTree(dashboard.path("data").path("keywarden.json").asText()))
        .isEqualTo(
            new ObjectMapper().readTree(Tools.CHART.resolve("dashboards/keywarden.json").toFile()));
  }

  /**
   * The CSI node plugin is opt-in: the default values render no DaemonSet, no CSIDriver and nothing
   * named keywarden-csi, and the injector's default mode is sidecar.
   */
  @Test
  void csiPluginIsOffByDefault(TestCluster cluster) throws Exception {
    List<JsonNode> objects =
        render(new Tools(cluster), "--namespace", "keywarden-system", "--include-crds");

    assertThat(objects)
        .extracting(o -> o.path("kind").asText())
        .doesNotContain("DaemonSet", "CSIDriver");
    assertThat(objects)
        .extracting(o -> o.path("metadata").path("name").asText())
        .doesNotContain("keywarden-csi", "csi.keywarden.io");
    assertThat(injectorEnv(objects)).containsEntry("KEYWARDEN_INJECTOR_DEFAULT_MODE", "sidecar");
  }

  /**
   * csi.enabled renders the plugin as a privileged DaemonSet that registers itself (one container,
   * no node-driver-registrar), with kubelet's pods directory mounted Bidirectional, the CSIDriver
   * object exactly as csi/csidriver.yaml declares it, and a ServiceAccount bound to nothing and
   * without a token: the plugin reads every secret with the token of the pod it serves.
   */
  @Test
  void csiEnabledRendersThePrivilegedSelfRegisteringDaemonSetTheCsiDriverAndNoRbac(
      TestCluster cluster) throws Exception {
    List<JsonNode> objects =
        render(
            new Tools(cluster),
            "--namespace",
            "keywarden-system",
            "--set",
            "csi.enabled=true",
            "--set",
            "csi.kubeletDir=/var/lib/k0s/kubelet/");
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());

    JsonNode driver = only(objects, "CSIDriver", "csi.keywarden.io");
    assertThat(driver.path("spec"))
        .as("the CSIDriver is csi/csidriver.yaml's")
        .isEqualTo(yaml.readTree(Tools.CHART.resolve("csi/csidriver.yaml").toFile()).path("spec"));
    assertThat(Files.isSymbolicLink(Tools.ROOT.resolve("csi/deploy/csidriver.yaml")))
        .as("csi/deploy/csidriver.yaml links to the chart's copy instead of being a second one")
        .isTrue();
    assertThat(Tools.ROOT.resolve("csi/deploy/csidriver.yaml").toRealPath())
        .isEqualTo(Tools.CHART.resolve("csi/csidriver.yaml").toRealPath());
    assertThat(driver.path("metadata").path("labels").path("app.kubernetes.io/part-of").asText())
        .isEqualTo("keywarden");

    JsonNode account = only(objects, "ServiceAccount", "keywarden-csi");
    assertThat(account.path("automountServiceAccountToken").asBoolean(true)).isFalse();
    for (JsonNode binding : objects) {
      if (binding.path("kind").asText().endsWith("RoleBinding")) {
        assertThat(binding.path("subjects").findValuesAsText("name"))
            .as("%s binds nothing to the plugin", binding.path("metadata").path("name"))
            .doesNotContain("keywarden-csi");
      }
    }

    JsonNode daemonSet = only(objects, "DaemonSet", "keywarden-csi");
    JsonNode pod = daemonSet.path("spec").path("template").path("spec");
    assertThat(pod.path("serviceAccountName").asText()).isEqualTo("keywarden-csi");
    assertThat(pod.path("automountServiceAccountToken").asBoolean(true)).isFalse();
    assertThat(pod.path("hostNetwork").asBoolean(false)).isFalse();
    assertThat(pod.path("tolerations").get(0).path("operator").asText()).isEqualTo("Exists");
    assertThat(pod.path("containers")).as("no node-driver-registrar: one container").hasSize(1);
    JsonNode container = pod.path("containers").get(0);
    assertThat(container.path("image").asText()).isEqualTo("ghcr.io/keywarden/keywarden-csi:0.1.0");
    JsonNode security = container.path("securityContext");
    assertThat(security.path("privileged").asBoolean()).isTrue();
    assertThat(security.path("runAsUser").asInt(-1)).isZero();
    assertThat(security.path("readOnlyRootFilesystem").asBoolean()).isTrue();
    for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
      assertThat(container.path(probe).path("exec").path("command").toString())
          .as(probe)
          .contains("test -S", "$KEYWARDEN_CSI_SOCKET");
    }
    assertThat(container.path("resources").path("limits").path("memory").asText()).isNotEmpty();

    Map<String, String> env = new java.util.HashMap<>();
    container.path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
    String kubelet = "/var/lib/k0s/kubelet";
    assertThat(env)
        .containsEntry("KEYWARDEN_CSI_DRIVER_NAME", "csi.keywarden.io")
        .containsEntry("KEYWARDEN_CSI_SOCKET", kubelet + "/plugins/csi.keywarden.io/csi.sock")
        .containsEntry("KEYWARDEN_CSI_REGISTRATION_DIR", kubelet + "/plugins_registry")
        .containsEntry("KEYWARDEN_CSI_KUBELET_DIR", kubelet)
        .containsEntry("KEYWARDEN_CSI_STATE_DIR", "/run/keywarden-csi")
        .containsEntry("KEYWARDEN_CSI_TMPFS_SIZE", "1m")
        .containsEntry("KEYWARDEN_API_URL", "https://keywarden-operator.keywarden-system.svc:8443")
        .containsEntry("KEYWARDEN_API_CA_FILE", "/etc/keywarden/api-ca/ca.crt");
    assertThat(
            container.path("env").findValues("fieldPath").stream().map(JsonNode::asText).toList())
        .containsExactly("spec.nodeName");

    Map<String, JsonNode> mounts = new java.util.HashMap<>();
    container.path("volumeMounts").forEach(m -> mounts.put(m.path("mountPath").asText(), m));
    assertThat(mounts.get(kubelet + "/pods").path("mountPropagation").asText())
        .isEqualTo("Bidirectional");
    assertThat(mounts)
        .containsKeys(
            kubelet + "/plugins/csi.keywarden.io",
            kubelet + "/plugins_registry",
            "/run/keywarden-csi",
            "/etc/keywarden/api-ca");
    Map<String, String> hostPaths = new java.util.HashMap<>();
    pod.path("volumes")
        .forEach(
            v -> {
              if (v.has("hostPath")) {
                hostPaths.put(v.path("name").asText(), v.path("hostPath").path("path").asText());
              }
            });
    assertThat(hostPaths.values())
        .containsExactlyInAnyOrder(
            kubelet + "/pods",
            kubelet + "/plugins/csi.keywarden.io",
            kubelet + "/plugins_registry",
            "/run/keywarden-csi");
  }

  /**
   * The chart's CSIDriver has kubelet hand the pod's token in NodePublishVolume's secrets ({@code
   * serviceAccountTokenInSecrets}): the apiserver keeps the field and has no warning for it.
   * Without the field the same object draws the apiserver's warning, which kubectl prints: the
   * first check can fail.
   */
  @Test
  void theCsiDriverHasTheTokenInSecretsAndTheApiserverNoWarning(TestCluster cluster)
      throws Exception {
    Tools tools = new Tools(cluster);
    JsonNode driver =
        only(
            render(tools, "--namespace", "keywarden-system", "--set", "csi.enabled=true"),
            "CSIDriver",
            "csi.keywarden.io");
    assertThat(driver.path("spec").path("serviceAccountTokenInSecrets").asBoolean()).isTrue();

    Tools.Result shipped = createDryRun(tools, driver);
    System.out.println(
        "kubectl create --dry-run=server (the chart's CSIDriver): stderr '"
            + shipped.stderr().strip()
            + "'");
    assertThat(shipped.orFail().strip())
        .as("the field as the apiserver keeps it")
        .isEqualTo("true");
    assertThat(shipped.stderr()).doesNotContain("Warning", "serviceAccountTokenInSecrets");

    JsonNode without = driver.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) without.path("spec"))
        .remove("serviceAccountTokenInSecrets");
    Tools.Result unset = createDryRun(tools, without);
    unset.orFail();
    assertThat(unset.stderr())
        .as("the apiserver's warning for a tokenRequests driver without the field")
        .contains("spec.serviceAccountTokenInSecrets is unset");
  }

  /**
   * The object through the apiserver's admission and validation, stored nowhere; under a name of
   * its own, so that a CSIDriver a node test installed meanwhile is no conflict.
   */
  private static Tools.Result createDryRun(Tools tools, JsonNode object) {
    JsonNode renamed = object.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) renamed.path("metadata"))
        .put("name", "dry-run.csi.keywarden.io");
    return tools.kubectlWithInput(
        renamed.toString(),
        "create",
        "--dry-run=server",
        "-o",
        "jsonpath={.spec.serviceAccountTokenInSecrets}",
        "-f",
        "-");
  }

  /** injector.defaultMode reaches the injector; csi without the plugin is refused by name. */
  @Test
  void injectorDefaultModeCsiNeedsTheCsiPlugin(TestCluster cluster) throws Exception {
    Tools tools = new Tools(cluster);

    Tools.Result refused =
        tools.helm(
            "template", Release.NAME, Tools.CHART.toString(), "--set", "injector.defaultMode=csi");
    assertThat(refused.exitCode()).isNotZero();
    assertThat(refused.stderr()).contains("injector.defaultMode: csi needs csi.enabled=true");

    List<JsonNode> objects =
        render(tools, "--set", "injector.defaultMode=csi", "--set", "csi.enabled=true");
    assertThat(injectorEnv(objects)).containsEntry("KEYWARDEN_INJECTOR_DEFAULT_MODE", "csi");
  }

  private static List<JsonNode> render(Tools tools, String... values) throws Exception {
    List<String> args =
        new java.util.ArrayList<>(List.of("template", Release.NAME, Tools.CHART.toString()));
    args.addAll(List.of(values));
    String rendered = tools.helm(args.toArray(String[]::new)).orFail();
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    return yaml.readValues(yaml.createParser(rendered), JsonNode.class).readAll().stream()
        .filter(o -> o != null && o.has("kind"))
        .toList();
  }

  private static JsonNode only(List<JsonNode> objects, String kind, String name) {
    List<JsonNode> found =
        objects.stream()
            .filter(o -> kind.equals(o.path("kind").asText()))
            .filter(o -> name.equals(o.path("metadata").path("name").asText()))
            .toList();
    assertThat(found).as("%s %s", kind, name).hasSize(1);
    return found.get(0);
  }

  private static Map<String, String> injectorEnv(List<JsonNode> objects) {
    Map<String, String> env = new java.util.HashMap<>();
    only(objects, "Deployment", "keywarden-injector")
        .path("spec")
        .path("template")
        .path("spec")
        .path("containers")
        .get(0)
        .path("env")
        .forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
    return env;
  }

  @Test
  void deployManifestsEqualAFreshRenderOfTheChart(TestCluster cluster) throws Exception {
    Tools tools = new Tools(cluster);
    Path fresh = Files.createTempFile("keywarden-manifests", ".yaml");
    try {
      tools.script("scripts/manifests", "--output", fresh.toString()).orFail();
      String committed = Tools.read(Tools.ROOT.resolve("deploy/keywarden.yaml"));

      assertThat(committed)
          .as("deploy/keywarden.yaml is out of date; run `make manifests`")
          .isEqualTo(Tools.read(fresh));
      String chart =
          tools
              .helm(
                  "template",
                  Release.NAME,
                  Tools.CHART.toString(),
                  "--namespace",
                  "keywarden-system",
                  "--include-crds")
              .orFail();
      assertThat(committed)
          .as("deploy/keywarden.yaml holds the chart rendered with default values")
          .endsWith(chart);
    } finally {
      Files.deleteIfExists(fresh);
    }
  }

  @Test
  void deployManifestsApplyToTheirNamespace(TestCluster cluster) {
    Tools tools = new Tools(cluster);
    KubernetesClient admin = cluster.admin();
    // A server dry run creates nothing, so the namespace the file creates first must exist already.
    boolean created = admin.namespaces().withName("keywarden-system").get() == null;
    if (created) {
      admin
          .namespaces()
          .resource(
              new NamespaceBuilder()
                  .withNewMetadata()
                  .withName("keywarden-system")
                  .endMetadata()
                  .build())
          .create();
    }
    try {
      String manifests = Tools.ROOT.resolve("deploy/keywarden.yaml").toString();
      String applied =
          tools
              .kubectl(
                  "apply",
                  "--server-side",
                  "--force-conflicts",
                  "--dry-run=server",
                  "-f",
                  manifests)
              .orFail();

      long objects =
          Tools.read(Path.of(manifests)).lines().filter(line -> line.startsWith("kind:")).count();
      assertThat(applied.lines().filter(line -> line.endsWith("(server dry run)")).count())
          .isEqualTo(objects);
      assertThat(applied)
          .contains(
              "customresourcedefinition.apiextensions.k8s.io/managedsecrets.keywarden.io",
              "deployment.apps/keywarden-operator",
              "mutatingwebhookconfiguration.admissionregistration.k8s.io/keywarden-injector");
    } finally {
      if (created) {
        admin.namespaces().withName("keywarden-system").delete();
      }
    }
  }

  /** The chart's registration is the one the injector module ships, for the release namespace. */
  @Test
  void webhookRegistrationMatchesTheInjectorsOwn(TestCluster cluster) throws Exception {
    KubernetesClient admin = cluster.admin();
    String rendered =
        new Tools(cluster)
            .helm(
                "template",
                Release.NAME,
                Tools.CHART.toString(),
                "--namespace",
                "keywarden-system",
                "--show-only",
                "templates/injector-webhook.yaml")
            .orFail();
    MutatingWebhookConfiguration chart =
        admin.getKubernetesSerialization().unmarshal(rendered, MutatingWebhookConfiguration.class);
    MutatingWebhookConfiguration shipped =
        admin
            .getKubernetesSerialization()
            .unmarshal(
                Files.newInputStream(
                    Tools.ROOT.resolve(
                        "injector/src/main/resources/kubernetes/mutating-webhook.yaml")),
                MutatingWebhookConfiguration.class);

    assertThat(chart.getMetadata().getName()).isEqualTo(shipped.getMetadata().getName());
    assertThat(chart.getWebhooks()).usingRecursiveComparison().isEqualTo(shipped.getWebhooks());
    MutatingWebhook webhook = chart.getWebhooks().get(0);
    assertThat(webhook.getSideEffects()).isEqualTo("None");
    assertThat(webhook.getAdmissionReviewVersions()).containsExactly("v1");
    assertThat(webhook.getTimeoutSeconds()).isLessThanOrEqualTo(10);
    assertThat(webhook.getClientConfig().getCaBundle()).as("the injector patches it").isNull();
  }

  /**
   * Asking for a restore (keywarden.io/restore) takes the RBAC verb restore on
   * managedsecrets/value, as RestoreSecret does: a tenant who may create ManagedSecrets but lacks
   * the verb is refused by the apiserver with a message naming it; with a Role that grants it for
   * that name, the same create is admitted. Objects without the annotation are not affected.
   */
  @Test
  void restoreAnnotationNeedsTheRestoreVerb(TestCluster cluster, TestNamespace ns) {
    Tools tools = new Tools(cluster);
    KubernetesClient admin = cluster.admin();
    try (Release release = Release.install(tools, ns.name())) {
      String tenant = ns.name() + "-tenant";
      admin
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(tenant).endMetadata().build())
          .create();
      try {
        String user = "system:serviceaccount:" + tenant + ":deployer";
        apply(
            tools,
            """
            apiVersion: v1
            kind: ServiceAccount
            metadata: {name: deployer, namespace: %1$s}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: create-managedsecrets, namespace: %1$s}
            rules:
              - apiGroups: [keywarden.io]
                resources: [managedsecrets]
                verbs: [create, get]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: deployer-create, namespace: %1$s}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: create-managedsecrets}
            subjects: [{kind: ServiceAccount, name: deployer, namespace: %1$s}]
            """
                .formatted(tenant));
        String restore =
            """
            apiVersion: keywarden.io/v1alpha1
            kind: ManagedSecret
            metadata:
              name: %s
              namespace: %s
              annotations: {keywarden.io/restore: "true"}
            spec:
              generate: {passwordLength: 16}
            """;

        // The policy reaches the apiserver's admission a moment after it is created; a try that
        // came before it was admitted, so its object goes before the next try.
        String refusal =
            "keywarden.io/restore on ManagedSecret "
                + tenant
                + "/db needs the RBAC"
                + " verb restore on managedsecrets/value";
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () -> {
                  String stderr = applyAs(tools, user, restore.formatted("db", tenant)).stderr();
                  if (!stderr.contains(refusal)) {
                    var early =
                        admin
                            .genericKubernetesResources("keywarden.io/v1alpha1", "ManagedSecret")
                            .inNamespace(tenant)
                            .withName("db");
                    early.withGracePeriod(0).delete();
                    await().atMost(Duration.ofSeconds(20)).until(() -> early.get() == null);
                  }
                  assertThat(stderr).contains(refusal);
                });
        assertThat(
                admin
                    .genericKubernetesResources("keywarden.io/v1alpha1", "ManagedSecret")
                    .inNamespace(tenant)
                    .withName("db")
                    .get())
            .isNull();
        // Without the annotation the same tenant creates as before.
        assertThat(
                applyAs(
                        tools,
                        user,
                        restore
                            .formatted("plain", tenant)
                            .replace("annotations: {keywarden.io/restore: \"true\"}", "labels: {}"))
                    .orFail())
            .contains("plain");

        apply(
            tools,
            """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: restore-db, namespace: %1$s}
            rules:
              - apiGroups: [keywarden.io]
                resources: [managedsecrets/value]
                resourceNames: [db]
                verbs: [restore]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: deployer-restore, namespace: %1$s}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: restore-db}
            subjects: [{kind: ServiceAccount, name: deployer, namespace: %1$s}]
            """
                .formatted(tenant));
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () ->
                    assertThat(applyAs(tools, user, restore.formatted("db", tenant)).orFail())
                        .contains("db"));
      } finally {
        admin
            .genericKubernetesResources("keywarden.io/v1alpha1", "ManagedSecret")
            .inNamespace(tenant)
            .delete();
        admin.namespaces().withName(tenant).delete();
      }
    }
  }

  @Test
  void installCreatesEveryObjectAndUpgradeChangesThemKeepingTheCaBundle(
      TestCluster cluster, TestNamespace ns) {
    Tools tools = new Tools(cluster);
    KubernetesClient admin = cluster.admin();
    String caBundle =
        Base64.getEncoder()
            .encodeToString(
                "-----BEGIN CERTIFICATE-----\nstand-in\n".getBytes(StandardCharsets.UTF_8));

    try (Release release = Release.install(tools, ns.name())) {
      List<HasMetadata> objects = release.manifest(admin);
      assertThat(objects.stream().map(Release::describe).collect(Collectors.toSet()))
          .containsExactlyInAnyOrderElementsOf(
              Set.of(
                  "ServiceAccount " + ns + "/keywarden-operator",
                  "ServiceAccount " + ns + "/keywarden-injector",
                  "ConfigMap " + ns + "/keywarden-operator-config",
                  "ClusterRole keywarden-operator",
                  "ClusterRole keywarden-injector",
                  "ClusterRoleBinding keywarden-operator",
                  "ClusterRoleBinding keywarden-injector",
                  "Role " + ns + "/keywarden-operator",
                  "Role " + ns + "/keywarden-injector",
                  "RoleBinding " + ns + "/keywarden-operator",
                  "RoleBinding " + ns + "/keywarden-injector",
                  "Service " + ns + "/keywarden-operator",
                  "Service " + ns + "/keywarden-injector",
                  "Deployment " + ns + "/keywarden-operator",
                  "Deployment " + ns + "/keywarden-injector",
                  "PodDisruptionBudget " + ns + "/keywarden-operator",
                  "PodDisruptionBudget " + ns + "/keywarden-injector",
                  "MutatingWebhookConfiguration keywarden-injector",
                  "ValidatingAdmissionPolicy keywarden-restore",
                  "ValidatingAdmissionPolicyBinding keywarden-restore"));
      assertThat(objects)
          .allSatisfy(
              object ->
                  assertThat(Release.live(admin, object)).as(Release.describe(object)).isNotNull());
      for (String crd : List.of("managedsecrets.keywarden.io", "rotationschedules.keywarden.io")) {
        assertThat(admin.apiextensions().v1().customResourceDefinitions().withName(crd).get())
            .as(crd)
            .isNotNull();
      }

      Deployment operator = deployment(admin, ns, "keywarden-operator");
      assertThat(operator.getSpec().getReplicas()).isEqualTo(2);
      assertThat(env(operator)).containsEntry("KEYWARDEN_LEADER_ELECTION_ENABLED", "true");
      var container = operator.getSpec().getTemplate().getSpec().getContainers().get(0);
      assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/q/health/live");
      assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");
      assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
      assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
      assertThat(container.getVolumeMounts())
          .anySatisfy(mount -> assertThat(mount.getMountPath()).isEqualTo("/tmp"));
      assertThat(operator.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot())
          .isTrue();
      String checksum =
          operator.getSpec().getTemplate().getMetadata().getAnnotations().get("checksum/config");

      // What the injector does at startup: patch the caBundle. An upgrade must not take it away.
      admin
          .admissionRegistration()
          .v1()
          .mutatingWebhookConfigurations()
          .withName("keywarden-injector")
          .edit(
              configuration -> {
                configuration
                    .getWebhooks()
                    .forEach(webhook -> webhook.getClientConfig().setCaBundle(caBundle));
                return configuration;
              });

      release
          .upgrade(
              "--set",
              "operator.replicas=3",
              "--set",
              "networkPolicy.enabled=true",
              "--set",
              "kms.keys.second.provider=local",
              "--set",
              "kms.defaultKeyId=second")
          .orFail();

      operator = deployment(admin, ns, "keywarden-operator");
      assertThat(operator.getSpec().getReplicas()).isEqualTo(3);
      assertThat(
              operator
                  .getSpec()
                  .getTemplate()
                  .getMetadata()
                  .getAnnotations()
                  .get("checksum/config"))
          .as("a configuration change rolls the pods")
          .isNotEqualTo(checksum);
      assertThat(admin.network().networkPolicies().inNamespace(ns.name()).list().getItems())
          .extracting(policy -> policy.getMetadata().getName())
          .containsExactlyInAnyOrder("keywarden-operator", "keywarden-injector");
      ConfigMap config =
          admin.configMaps().inNamespace(ns.name()).withName("keywarden-operator-config").get();
      assertThat(config.getData().get("keywarden.properties"))
          .contains(
              "keywarden.kms.keys.second.provider=local", "keywarden.kms.default-key-id=second");
      assertThat(
              admin
                  .admissionRegistration()
                  .v1()
                  .mutatingWebhookConfigurations()
                  .withName("keywarden-injector")
                  .get()
                  .getWebhooks())
          .extracting(webhook -> webhook.getClientConfig().getCaBundle())
          .containsOnly(caBundle);
      assertThat(
              tools.helm("history", Release.NAME, "--namespace", ns.name(), "--max", "1").orFail())
          .contains("deployed");

      // A bad value on upgrade changes nothing.
      Tools.Result refused = release.upgrade("--set", "operator.replicas=-1");
      assertThat(refused.exitCode()).isNotZero();
      assertThat(refused.stderr()).contains("/operator/replicas");
      assertThat(deployment(admin, ns, "keywarden-operator").getSpec().getReplicas()).isEqualTo(3);
    }

    assertThat(admin.rbac().clusterRoles().withName("keywarden-operator").get())
        .as("removed by helm uninstall")
        .isNull();
    assertThat(
            admin
                .admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .withName("keywarden-injector")
                .get())
        .isNull();
    assertThat(
            admin
                .apiextensions()
                .v1()
                .customResourceDefinitions()
                .withName("managedsecrets.keywarden.io")
                .get())
        .as("helm never deletes CRDs")
        .isNotNull();
  }

  static Deployment deployment(KubernetesClient admin, TestNamespace ns, String name) {
    return admin.apps().deployments().inNamespace(ns.name()).withName(name).get();
  }

  static Map<String, String> env(Deployment deployment) {
    return deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> e.getValue() != null)
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
  }

  private static void apply(Tools tools, String yaml) {
    tools.kubectlWithInput(yaml, "apply", "-f", "-").orFail();
  }

  /** kubectl create as {@code user} (impersonation): the apiserver's answer, admitted or not. */
  private static Tools.Result applyAs(Tools tools, String user, String yaml) {
    return tools.kubectlWithInput(yaml, "create", "--as", user, "-f", "-");
  }

  private static void installStandInCrd(KubernetesClient admin, String resource) {
    try (var in =
        Files.newInputStream(Tools.ROOT.resolve("helm-test/src/test/resources/" + resource))) {
      CustomResourceDefinition crd =
          admin.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
      if (admin
              .apiextensions()
              .v1()
              .customResourceDefinitions()
              .withName(crd.getMetadata().getName())
              .get()
          == null) {
        admin.apiextensions().v1().customResourceDefinitions().resource(crd).create();
      }
      admin
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .withName(crd.getMetadata().getName())
          .waitUntilCondition(
              c ->
                  c != null
                      && c.getStatus() != null
                      // status exists before the apiserver's first conditions do
                      && c.getStatus().getConditions() != null
                      && c.getStatus().getConditions().stream()
                          .anyMatch(
                              condition ->
                                  "Established".equals(condition.getType())
                                      && "True".equals(condition.getStatus())),
              60,
              TimeUnit.SECONDS);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String[] concat(List<String> first, List<String> second) {
    return java.util.stream.Stream.concat(first.stream(), second.stream()).toArray(String[]::new);
  }
}
