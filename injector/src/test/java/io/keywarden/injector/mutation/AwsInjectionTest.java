package io.keywarden.injector.mutation;

import static io.keywarden.injector.mutation.TestPods.NATIVE;
import static io.keywarden.injector.mutation.TestPods.WITH_CA;
import static io.keywarden.injector.mutation.TestPods.asStored;
import static io.keywarden.injector.mutation.TestPods.copy;
import static io.keywarden.injector.mutation.TestPods.pod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.zjsonpatch.JsonDiff;
import io.keywarden.injector.InjectionConfigParser;
import io.keywarden.injector.InvalidAnnotationException;
import io.keywarden.injector.config.AgentSettings;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * keywarden.io/aws-sdk and keywarden.io/aws-endpoint: the variables and mounts each route gives the
 * app containers and the agent, and every way a container's own AWS settings are kept and reported.
 */
class AwsInjectionTest {

  private static final String API = "https://api.example:8443";
  private static final String TOKEN = "/var/run/secrets/keywarden-token/token";
  private static final String RELAY = "http://127.0.0.1:2773/v1/aws/credentials";
  private static final String CA = "/var/run/secrets/keywarden-aws/ca.crt";
  private static final String JAVA =
      "-Djavax.net.ssl.trustStore=/var/run/secrets/keywarden-aws/truststore.p12"
          + " -Djavax.net.ssl.trustStoreType=PKCS12";

  private static Pod inject(AgentSettings settings, Pod pod) {
    return new PodInjector(settings)
        .inject(pod, InjectionConfigParser.parse(pod.getMetadata().getAnnotations()));
  }

  private static List<String> warnings(AgentSettings settings, Pod pod) {
    return new PodInjector(settings)
        .warnings(pod, InjectionConfigParser.parse(pod.getMetadata().getAnnotations()));
  }

  static Stream<Arguments> routes() {
    Map<String, String> direct = new LinkedHashMap<>();
    direct.put("AWS_ENDPOINT_URL_SECRETS_MANAGER", API);
    direct.put("AWS_CONTAINER_CREDENTIALS_FULL_URI", RELAY);
    direct.put("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", TOKEN);
    direct.put("AWS_REGION", "us-east-1");
    direct.put("AWS_DEFAULT_REGION", "us-east-1");
    direct.put("AWS_CA_BUNDLE", CA);
    direct.put("NODE_EXTRA_CA_CERTS", CA);
    direct.put("JAVA_TOOL_OPTIONS", JAVA);

    Map<String, String> directSystemCa = new LinkedHashMap<>();
    directSystemCa.put(
        "AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://keywarden-operator.keywarden-system.svc:8443");
    directSystemCa.put(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8080/v1/aws/credentials");
    directSystemCa.put("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", TOKEN);
    directSystemCa.put("AWS_REGION", "eu-central-2");
    directSystemCa.put("AWS_DEFAULT_REGION", "eu-central-2");

    Map<String, String> loopback = new LinkedHashMap<>();
    loopback.put("AWS_TOKEN", "file://" + TOKEN);
    loopback.put("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:8080");
    loopback.put("AWS_REGION", "us-east-1");
    loopback.put("AWS_DEFAULT_REGION", "us-east-1");

    return Stream.of(
        arguments(
            "direct route with the API CA: credentials pair, region, CA for Python, Node and Java",
            WITH_CA,
            Map.of("keywarden.io/aws-sdk", "true"),
            direct,
            Map.of(
                "KEYWARDEN_AWS_DIR",
                "/var/run/secrets/keywarden-aws",
                "KEYWARDEN_FILES",
                "[]",
                "KEYWARDEN_AWS_CREDENTIALS_PORT",
                "2773"),
            List.of("keywarden-secrets", "keywarden-token", "keywarden-aws")),
        arguments(
            "direct route, API certificate from a public CA (api-ca.source=system), annotated region,"
                + " credentials relay on port 8080",
            NATIVE,
            Map.of(
                "keywarden.io/aws-sdk", "true",
                "keywarden.io/aws-region", "eu-central-2",
                "keywarden.io/aws-endpoint-port", "8080",
                "keywarden.io/secret.db", "db"),
            directSystemCa,
            Map.of("KEYWARDEN_AWS_CREDENTIALS_PORT", "8080"),
            List.of("keywarden-secrets", "keywarden-token")),
        arguments(
            "loopback route on port 8080: no credentials pair, no CA",
            WITH_CA,
            Map.of(
                "keywarden.io/aws-sdk", "true",
                "keywarden.io/aws-endpoint", "true",
                "keywarden.io/aws-endpoint-port", "8080"),
            loopback,
            Map.of("KEYWARDEN_AWS_ENDPOINT_PORT", "8080", "AWS_TOKEN", "file://" + TOKEN),
            List.of("keywarden-secrets", "keywarden-token")),
        arguments(
            "only the agent paths for apps written for AWS's agent: the SSRF token",
            WITH_CA,
            Map.of("keywarden.io/aws-endpoint", "true", "keywarden.io/secret.db", "db"),
            Map.of("AWS_TOKEN", "file://" + TOKEN),
            Map.of("KEYWARDEN_AWS_ENDPOINT_PORT", "2773", "AWS_TOKEN", "file://" + TOKEN),
            List.of("keywarden-secrets", "keywarden-token")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("routes")
  void eachRouteSetsItsVariablesAndMounts(
      String name,
      AgentSettings settings,
      Map<String, String> annotations,
      Map<String, String> appEnv,
      Map<String, String> agentEnv,
      List<String> appMounts) {
    AgentSettings configured =
        name.contains("annotated region")
            ? new AgentSettings(
                settings.image(), settings.apiUrl(), settings.apiCaPem(), true, "ap-south-1")
            : settings;

    Pod pod = inject(configured, pod(annotations, "app", "worker"));

    for (Container app : pod.getSpec().getContainers()) {
      assertThat(env(app)).containsExactlyEntriesOf(appEnv);
      assertThat(app.getVolumeMounts())
          .extracting(VolumeMount::getName)
          .containsExactlyElementsOf(appMounts);
      assertThat(app.getVolumeMounts())
          .allMatch(mount -> Boolean.TRUE.equals(mount.getReadOnly()), "read-only");
    }
    Container agent = pod.getSpec().getInitContainers().get(0);
    assertThat(env(agent)).containsAllEntriesOf(agentEnv);
    assertThat(env(agent).keySet())
        .doesNotContain("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_REGION", "JAVA_TOOL_OPTIONS");
    boolean ca = agentEnv.containsKey("KEYWARDEN_AWS_DIR");
    assertThat(agent.getVolumeMounts())
        .extracting(VolumeMount::getName)
        .containsExactlyElementsOf(
            ca
                ? List.of(
                    "keywarden-secrets", "keywarden-token", "keywarden-token", "keywarden-aws")
                : List.of("keywarden-secrets", "keywarden-token", "keywarden-token"));
    assertThat(pod.getSpec().getVolumes())
        .extracting(Volume::getName)
        .containsExactlyElementsOf(
            ca
                ? List.of("keywarden-secrets", "keywarden-token", "keywarden-aws")
                : List.of("keywarden-secrets", "keywarden-token"));
    if (ca) {
      Volume aws = pod.getSpec().getVolumes().get(2);
      assertThat(aws.getEmptyDir().getMedium()).isEqualTo("Memory");
    }
    assertThat(warnings(configured, pod(annotations, "app", "worker"))).isEmpty();
  }

  @Test
  void theDirectRouteRunsTheAgentForItsCredentialsRelayEvenWithoutFilesOrCa() {
    Pod pod = inject(NATIVE, pod(Map.of("keywarden.io/aws-sdk", "true"), "app"));

    Container agent = pod.getSpec().getInitContainers().get(0);
    assertThat(env(agent))
        .containsEntry("KEYWARDEN_AWS_CREDENTIALS_PORT", "2773")
        .containsEntry("KEYWARDEN_FILES", "[]")
        .doesNotContainKey("KEYWARDEN_AWS_DIR");
    assertThat(pod.getSpec().getContainers()).extracting(Container::getName).containsExactly("app");
    Container app = pod.getSpec().getContainers().get(0);
    assertThat(env(app))
        .containsEntry("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", TOKEN)
        .containsEntry("AWS_CONTAINER_CREDENTIALS_FULL_URI", RELAY);
  }

  @Test
  void onlyTheSelectedContainersGetTheVariables() {
    Pod pod =
        inject(
            WITH_CA,
            pod(
                Map.of(
                    "keywarden.io/aws-sdk", "true",
                    "keywarden.io/containers", "app"),
                "app",
                "proxy"));

    assertThat(env(pod.getSpec().getContainers().get(0))).containsKey("AWS_REGION");
    assertThat(pod.getSpec().getContainers().get(1).getEnv()).isNullOrEmpty();
    assertThat(pod.getSpec().getContainers().get(1).getVolumeMounts()).isEmpty();
  }

  static Stream<Arguments> denials() {
    return Stream.of(
        arguments(
            "own static credentials come first in the SDK's chain",
            Map.of("keywarden.io/aws-sdk", "true"),
            env("AWS_ACCESS_KEY_ID", "AKIA..."),
            "annotation keywarden.io/aws-sdk: container app sets AWS_ACCESS_KEY_ID, which the AWS"
                + " SDKs use before the container credentials Keywarden sets"),
        arguments(
            "IRSA's web identity comes first too",
            Map.of("keywarden.io/aws-sdk", "true"),
            env("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/token"),
            "annotation keywarden.io/aws-sdk: container app sets AWS_WEB_IDENTITY_TOKEN_FILE"),
        arguments(
            "EKS Pod Identity's own container credentials",
            Map.of("keywarden.io/aws-sdk", "true"),
            env("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"),
            "annotation keywarden.io/aws-sdk: container app sets its own"
                + " AWS_CONTAINER_CREDENTIALS_FULL_URI, which Keywarden does not overwrite"),
        arguments(
            "its own Secrets Manager endpoint",
            Map.of("keywarden.io/aws-sdk", "true", "keywarden.io/aws-endpoint", "true"),
            env(
                "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                "https://secretsmanager.eu-west-1.amazonaws.com"),
            "annotation keywarden.io/aws-sdk: container app sets its own"
                + " AWS_ENDPOINT_URL_SECRETS_MANAGER"),
        arguments(
            "an endpoint from a ConfigMap (its value unknown)",
            Map.of("keywarden.io/aws-sdk", "true"),
            new EnvVarBuilder()
                .withName("AWS_ENDPOINT_URL_SECRETS_MANAGER")
                .withNewValueFrom()
                .withNewConfigMapKeyRef("url", "aws", false)
                .endValueFrom()
                .build(),
            "annotation keywarden.io/aws-sdk: container app sets its own"
                + " AWS_ENDPOINT_URL_SECRETS_MANAGER"),
        arguments(
            "endpoints switched off",
            Map.of("keywarden.io/aws-sdk", "true"),
            env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
            "annotation keywarden.io/aws-sdk: container app sets"
                + " AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"),
        arguments(
            "its own SSRF token",
            Map.of("keywarden.io/aws-endpoint", "true"),
            env("AWS_TOKEN", "file:///var/run/awssmatoken"),
            "annotation keywarden.io/aws-endpoint: container app sets its own AWS_TOKEN"));
  }

  @ParameterizedTest(name = "denied: {0}")
  @MethodSource("denials")
  void clashesThatWouldRouteElsewhereAreDenied(
      String name, Map<String, String> annotations, EnvVar own, String message) {
    Pod pod = withEnv(pod(annotations, "app"), own);

    assertThatThrownBy(() -> inject(WITH_CA, pod))
        .isInstanceOf(InvalidAnnotationException.class)
        .hasMessageStartingWith(message)
        // A container's variables may hold secrets: never quoted.
        .hasMessageNotContaining(own.getValue() == null ? "\u0000" : own.getValue());
  }

  @Test
  void theLoopbackRouteAcceptsTheAppsOwnAwsCredentials() {
    Pod pod =
        inject(
            WITH_CA,
            withEnv(
                pod(
                    Map.of("keywarden.io/aws-sdk", "true", "keywarden.io/aws-endpoint", "true"),
                    "app"),
                env("AWS_ACCESS_KEY_ID", "AKIA..."),
                env("AWS_SECRET_ACCESS_KEY", "real"),
                env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false")));

    assertThat(env(pod.getSpec().getContainers().get(0)))
        .containsEntry("AWS_ACCESS_KEY_ID", "AKIA...")
        .containsEntry("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:2773");
  }

  @Test
  void ownRegionCaAndJvmOptionsAreKeptWithAWarning() {
    Pod submitted =
        withEnv(
            pod(Map.of("keywarden.io/aws-sdk", "true"), "app"),
            env("AWS_REGION", "eu-west-1"),
            env("AWS_CA_BUNDLE", "/etc/ssl/corporate.pem"),
            env("JAVA_TOOL_OPTIONS", "-Xmx512m -Dpassword=hunter2"),
            env("AWS_DEFAULT_REGION", "us-east-1"));

    List<String> warnings = warnings(WITH_CA, copy(submitted));
    Pod pod = inject(WITH_CA, copy(submitted));

    Map<String, String> env = env(pod.getSpec().getContainers().get(0));
    assertThat(env)
        .contains(
            entry("AWS_REGION", "eu-west-1"),
            entry("AWS_CA_BUNDLE", "/etc/ssl/corporate.pem"),
            entry("JAVA_TOOL_OPTIONS", "-Xmx512m -Dpassword=hunter2"),
            entry("AWS_DEFAULT_REGION", "us-east-1"),
            entry("NODE_EXTRA_CA_CERTS", CA),
            entry("AWS_ENDPOINT_URL_SECRETS_MANAGER", API));
    assertThat(pod.getSpec().getContainers().get(0).getEnv())
        .extracting(EnvVar::getName)
        .doesNotHaveDuplicates();
    assertThat(warnings)
        .containsExactly(
            "keywarden.io/aws-sdk: container app keeps its own AWS_REGION instead of us-east-1"
                + " (set keywarden.io/aws-region to the same region to silence this)",
            "keywarden.io/aws-sdk: container app keeps its own AWS_CA_BUNDLE instead of "
                + CA
                + "; the app must trust the Keywarden API's CA, "
                + CA,
            "keywarden.io/aws-sdk: container app keeps its own JAVA_TOOL_OPTIONS instead of"
                + " Keywarden's trust store options; add"
                + " -Djavax.net.ssl.trustStore=/var/run/secrets/keywarden-aws/truststore.p12 to"
                + " them");
    assertThat(warnings)
        .allMatch(warning -> warning.length() <= 256)
        .noneMatch(w -> w.contains("hunter2"));
  }

  @Test
  void envFromIsWarnedAbout() {
    Pod pod =
        pod(Map.of("keywarden.io/aws-endpoint", "true", "keywarden.io/secret.db", "db"), "app");
    pod.getSpec()
        .getContainers()
        .get(0)
        .setEnvFrom(
            List.of(
                new io.fabric8.kubernetes.api.model.EnvFromSourceBuilder()
                    .withNewConfigMapRef("aws-settings", false)
                    .build()));

    assertThat(warnings(WITH_CA, pod))
        .containsExactly(
            "keywarden.io/aws-endpoint: container app takes variables from envFrom, which admission"
                + " cannot see; an AWS variable set there is overridden by Keywarden's (set it in env"
                + " to keep it)");
  }

  @Test
  void aMountAtTheTokenDirectoryIsDenied() {
    Pod pod = pod(Map.of("keywarden.io/aws-sdk", "true"), "app");
    pod.getSpec()
        .getContainers()
        .get(0)
        .setVolumeMounts(
            List.of(
                new VolumeMountBuilder()
                    .withName("tokens")
                    .withMountPath("/var/run/secrets/keywarden-token")
                    .build()));

    assertThatThrownBy(() -> inject(WITH_CA, pod))
        .isInstanceOf(InvalidAnnotationException.class)
        .hasMessage(
            "annotation keywarden.io/aws-sdk: container 'app' already mounts volume 'tokens' at"
                + " '/var/run/secrets/keywarden-token', where Keywarden mounts"
                + " /var/run/secrets/keywarden-token");
  }

  static Stream<Arguments> idempotency() {
    return Stream.of(
        arguments("direct", Map.of("keywarden.io/aws-sdk", "true")),
        arguments(
            "loopback",
            Map.of(
                "keywarden.io/aws-sdk",
                "true",
                "keywarden.io/aws-endpoint",
                "true",
                "keywarden.io/secret.db",
                "db")));
  }

  @ParameterizedTest(name = "stored pod mutated again: empty patch, no warning ({0})")
  @MethodSource("idempotency")
  void mutatingTheStoredPodIsAnEmptyPatch(String name, Map<String, String> annotations) {
    Pod stored = asStored(inject(WITH_CA, pod(new HashMap<>(annotations), "app")));
    Pod again = inject(WITH_CA, copy(stored));
    ObjectMapper json = new ObjectMapper();

    assertThat(JsonDiff.asJson(json.valueToTree(stored), json.valueToTree(again))).isEmpty();
    assertThat(warnings(WITH_CA, copy(stored))).isEmpty();
  }

  private static Pod withEnv(Pod pod, EnvVar... variables) {
    pod.getSpec().getContainers().get(0).setEnv(new java.util.ArrayList<>(List.of(variables)));
    return pod;
  }

  private static EnvVar env(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  private static Map<String, String> env(Container container) {
    Map<String, String> env = new LinkedHashMap<>();
    Optional.ofNullable(container.getEnv())
        .orElse(List.of())
        .forEach(variable -> env.put(variable.getName(), variable.getValue()));
    return env;
  }
}
