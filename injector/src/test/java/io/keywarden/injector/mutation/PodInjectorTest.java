package io.keywarden.injector.mutation;

import static io.keywarden.injector.mutation.TestPods.CLASSIC;
import static io.keywarden.injector.mutation.TestPods.NATIVE;
import static io.keywarden.injector.mutation.TestPods.WITH_CA;
import static io.keywarden.injector.mutation.TestPods.asStored;
import static io.keywarden.injector.mutation.TestPods.copy;
import static io.keywarden.injector.mutation.TestPods.names;
import static io.keywarden.injector.mutation.TestPods.pod;
import static io.keywarden.injector.mutation.TestPods.withInitContainer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.zjsonpatch.JsonDiff;
import io.keywarden.injector.InjectionConfigParser;
import io.keywarden.injector.InvalidAnnotationException;
import io.keywarden.injector.config.AgentSettings;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PodInjectorTest {

  private static final Map<String, String> ONE_FILE =
      Map.of("keywarden.io/secret.db", "db-password");
  private static final String PATH = "/var/run/secrets/keywarden";

  static Stream<Arguments> mutations() {
    return Stream.of(
        arguments(
            "memory-backed emptyDir with a size limit",
            NATIVE,
            pod(ONE_FILE, "app"),
            (Consumer<Pod>)
                pod -> {
                  Volume secrets = volume(pod, "keywarden-secrets");
                  assertThat(secrets.getEmptyDir().getMedium()).isEqualTo("Memory");
                  assertThat(secrets.getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("8Mi"));
                }),
        arguments(
            "projected token for audience keywarden.io, one hour",
            NATIVE,
            pod(ONE_FILE, "app"),
            (Consumer<Pod>)
                pod -> {
                  var token =
                      volume(pod, "keywarden-token")
                          .getProjected()
                          .getSources()
                          .get(0)
                          .getServiceAccountToken();
                  assertThat(token.getAudience()).isEqualTo("keywarden.io");
                  assertThat(token.getExpirationSeconds()).isEqualTo(3600L);
                  assertThat(token.getPath()).isEqualTo("token");
                }),
        arguments(
            "existing volumes are kept, ours appended",
            NATIVE,
            withVolume(pod(ONE_FILE, "app"), "data"),
            (Consumer<Pod>)
                pod ->
                    assertThat(pod.getSpec().getVolumes())
                        .extracting(Volume::getName)
                        .containsExactly("data", "keywarden-secrets", "keywarden-token")),
        arguments(
            "every app container mounts the files read-only by default",
            NATIVE,
            pod(ONE_FILE, "app", "worker"),
            (Consumer<Pod>)
                pod -> {
                  for (Container app : pod.getSpec().getContainers()) {
                    assertThat(app.getVolumeMounts())
                        .containsExactly(mount("keywarden-secrets", PATH, true));
                  }
                }),
        arguments(
            "annotated mount path",
            NATIVE,
            pod(
                Map.of(
                    "keywarden.io/secret.db", "db", "keywarden.io/mount-path", "/etc/app/secrets"),
                "app"),
            (Consumer<Pod>)
                pod -> {
                  assertThat(app(pod, "app").getVolumeMounts())
                      .containsExactly(mount("keywarden-secrets", "/etc/app/secrets", true));
                  assertThat(env(agent(pod), "KEYWARDEN_OUTPUT_DIR")).isEqualTo("/etc/app/secrets");
                  assertThat(agent(pod).getStartupProbe().getExec().getCommand())
                      .containsExactly("test", "-e", "/etc/app/secrets/..data");
                }),
        arguments(
            "only the containers named in keywarden.io/containers mount the files",
            NATIVE,
            pod(
                Map.of("keywarden.io/secret.db", "db", "keywarden.io/containers", "worker"),
                "app",
                "worker"),
            (Consumer<Pod>)
                pod -> {
                  assertThat(app(pod, "app").getVolumeMounts()).isEmpty();
                  assertThat(app(pod, "worker").getVolumeMounts())
                      .containsExactly(mount("keywarden-secrets", PATH, true));
                }),
        arguments(
            "a named init container mounts the files and starts after the agent",
            NATIVE,
            withInitContainer(
                pod(
                    Map.of(
                        "keywarden.io/secret.db", "db", "keywarden.io/containers", "migrate,app"),
                    "app"),
                "migrate"),
            (Consumer<Pod>)
                pod -> {
                  assertThat(names(pod.getSpec().getInitContainers()))
                      .containsExactly("keywarden-agent", "migrate");
                  assertThat(pod.getSpec().getInitContainers().get(1).getVolumeMounts())
                      .containsExactly(mount("keywarden-secrets", PATH, true));
                }),
        arguments(
            "native sidecar: first init container, restartPolicy Always, startup probe",
            NATIVE,
            withInitContainer(pod(ONE_FILE, "app"), "setup"),
            (Consumer<Pod>)
                pod -> {
                  assertThat(names(pod.getSpec().getInitContainers()))
                      .containsExactly("keywarden-agent", "setup");
                  assertThat(names(pod.getSpec().getContainers())).containsExactly("app");
                  Container agent = agent(pod);
                  assertThat(agent.getRestartPolicy()).isEqualTo("Always");
                  assertThat(agent.getStartupProbe().getExec().getCommand())
                      .containsExactly("test", "-e", PATH + "/..data");
                  assertThat(agent.getStartupProbe().getPeriodSeconds()).isEqualTo(1);
                  assertThat(agent.getStartupProbe().getFailureThreshold()).isEqualTo(120);
                  assertThat(env(agent, "KEYWARDEN_ONE_SHOT")).isNull();
                }),
        arguments(
            "agent container: image, command, mounts, resources, restricted security context",
            NATIVE,
            pod(ONE_FILE, "app"),
            (Consumer<Pod>)
                pod -> {
                  Container agent = agent(pod);
                  assertThat(agent.getImage()).isEqualTo("ghcr.io/keywarden/agent:0.1.0");
                  assertThat(agent.getCommand())
                      .containsExactly("/opt/keywarden/bin/keywarden-agent");
                  assertThat(agent.getArgs()).isEmpty();
                  assertThat(agent.getVolumeMounts())
                      .containsExactly(
                          mount("keywarden-secrets", PATH, null),
                          mount("keywarden-token", "/var/run/secrets/keywarden-token", true),
                          // keeps the ServiceAccount admission plugin's API token out of the agent
                          mount(
                              "keywarden-token",
                              "/var/run/secrets/kubernetes.io/serviceaccount",
                              true));
                  assertThat(agent.getResources().getRequests())
                      .containsEntry("cpu", new Quantity("10m"))
                      .containsEntry("memory", new Quantity("48Mi"));
                  assertThat(agent.getResources().getLimits())
                      .containsExactly(Map.entry("memory", new Quantity("64Mi")));
                  var security = agent.getSecurityContext();
                  assertThat(security.getRunAsNonRoot()).isTrue();
                  assertThat(security.getRunAsUser()).isEqualTo(65532L);
                  assertThat(security.getReadOnlyRootFilesystem()).isTrue();
                  assertThat(security.getAllowPrivilegeEscalation()).isFalse();
                  assertThat(security.getCapabilities().getDrop()).containsExactly("ALL");
                  assertThat(security.getCapabilities().getAdd()).isEmpty();
                  assertThat(security.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
                }),
        arguments(
            "agent environment with defaults",
            NATIVE,
            pod(ONE_FILE, "app"),
            (Consumer<Pod>)
                pod -> {
                  Container agent = agent(pod);
                  assertThat(agent.getEnv())
                      .extracting(EnvVar::getName)
                      .containsExactly(
                          "KEYWARDEN_API_URL",
                          "KEYWARDEN_TOKEN_FILE",
                          "KEYWARDEN_OUTPUT_DIR",
                          "KEYWARDEN_NAMESPACE",
                          "KEYWARDEN_FILES",
                          "KEYWARDEN_FILE_MODE",
                          "KEYWARDEN_REFRESH",
                          "KEYWARDEN_ON_CHANGE");
                  assertThat(env(agent, "KEYWARDEN_API_URL"))
                      .isEqualTo("https://keywarden-operator.keywarden-system.svc:8443");
                  assertThat(env(agent, "KEYWARDEN_TOKEN_FILE"))
                      .isEqualTo("/var/run/secrets/keywarden-token/token");
                  assertThat(agent.getEnv().get(3).getValueFrom().getFieldRef().getFieldPath())
                      .isEqualTo("metadata.namespace");
                  assertThat(env(agent, "KEYWARDEN_FILES"))
                      .isEqualTo(
                          "[{\"file\":\"db\",\"secret\":\"db-password\",\"key\":null,\"format\":\"raw\",\"stage\":\"CURRENT\"}]");
                  assertThat(env(agent, "KEYWARDEN_FILE_MODE")).isEqualTo("0644");
                  assertThat(env(agent, "KEYWARDEN_REFRESH")).isEqualTo("watch");
                  assertThat(env(agent, "KEYWARDEN_ON_CHANGE")).isNull();
                }),
        arguments(
            "agent environment from every annotation and the API CA",
            WITH_CA,
            podAsUser(
                Map.of(
                    "keywarden.io/secret.app.env",
                    "app-config",
                    "keywarden.io/format.app.env",
                    "env",
                    "keywarden.io/secret.db",
                    "db",
                    "keywarden.io/key.db",
                    "password",
                    "keywarden.io/stage.db",
                    "PREVIOUS",
                    "keywarden.io/file-mode",
                    "0440",
                    "keywarden.io/refresh",
                    "5m",
                    "keywarden.io/on-change",
                    "exec:/bin/reload now"),
                "app",
                1000),
            (Consumer<Pod>)
                pod -> {
                  Container agent = agent(pod);
                  assertThat(agent.getImage()).isEqualTo("registry.example/agent:1");
                  assertThat(env(agent, "KEYWARDEN_API_URL")).isEqualTo("https://api.example:8443");
                  assertThat(env(agent, "KEYWARDEN_API_CA"))
                      .startsWith("-----BEGIN CERTIFICATE-----");
                  assertThat(env(agent, "KEYWARDEN_FILES"))
                      .isEqualTo(
                          "["
                              + "{\"file\":\"app.env\",\"secret\":\"app-config\",\"key\":null,\"format\":\"env\",\"stage\":\"CURRENT\"},"
                              + "{\"file\":\"db\",\"secret\":\"db\",\"key\":\"password\",\"format\":\"raw\",\"stage\":\"PREVIOUS\"}]");
                  assertThat(env(agent, "KEYWARDEN_FILE_MODE")).isEqualTo("0440");
                  assertThat(env(agent, "KEYWARDEN_REFRESH")).isEqualTo("5m");
                  assertThat(env(agent, "KEYWARDEN_ON_CHANGE")).isEqualTo("exec:/bin/reload now");
                  assertThat(pod.getSpec().getShareProcessNamespace()).isNull();
                }),
        arguments(
            "refresh none",
            NATIVE,
            pod(Map.of("keywarden.io/secret.db", "db", "keywarden.io/refresh", "none"), "app"),
            (Consumer<Pod>)
                pod -> assertThat(env(agent(pod), "KEYWARDEN_REFRESH")).isEqualTo("none")),
        arguments(
            "signal on change shares the process namespace",
            NATIVE,
            podAsUser(
                Map.of("keywarden.io/secret.db", "db", "keywarden.io/on-change", "signal:SIGHUP"),
                "app",
                1000),
            (Consumer<Pod>)
                pod -> {
                  assertThat(pod.getSpec().getShareProcessNamespace()).isTrue();
                  assertThat(env(agent(pod), "KEYWARDEN_ON_CHANGE")).isEqualTo("signal:SIGHUP");
                }),
        arguments(
            "classic: one-shot init container first, sidecar last",
            CLASSIC,
            withInitContainer(pod(ONE_FILE, "app", "worker"), "setup"),
            (Consumer<Pod>)
                pod -> {
                  assertThat(names(pod.getSpec().getInitContainers()))
                      .containsExactly("keywarden-agent-init", "setup");
                  assertThat(names(pod.getSpec().getContainers()))
                      .containsExactly("app", "worker", "keywarden-agent");
                  Container init = pod.getSpec().getInitContainers().get(0);
                  assertThat(env(init, "KEYWARDEN_ONE_SHOT")).isEqualTo("true");
                  assertThat(init.getRestartPolicy()).isNull();
                  assertThat(init.getStartupProbe())
                      .as("plain init containers may not have probes")
                      .isNull();
                  Container sidecar = pod.getSpec().getContainers().get(2);
                  assertThat(sidecar.getRestartPolicy()).isNull();
                  assertThat(env(sidecar, "KEYWARDEN_ONE_SHOT")).isNull();
                  assertThat(sidecar.getStartupProbe()).isNotNull();
                  assertThat(sidecar.getVolumeMounts()).isEqualTo(init.getVolumeMounts());
                  assertThat(sidecar.getSecurityContext()).isEqualTo(init.getSecurityContext());
                  assertThat(app(pod, "worker").getVolumeMounts())
                      .containsExactly(mount("keywarden-secrets", PATH, true));
                }));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("mutations")
  void mutates(String name, AgentSettings settings, Pod pod, Consumer<Pod> expectation) {
    expectation.accept(inject(settings, pod));
  }

  static Stream<Arguments> idempotency() {
    return Stream.of(
        arguments("native sidecar", NATIVE, pod(ONE_FILE, "app", "worker")),
        arguments("classic sidecar", CLASSIC, pod(ONE_FILE, "app")),
        arguments(
            "container selection with an init container",
            NATIVE,
            withInitContainer(
                pod(
                    Map.of("keywarden.io/secret.db", "db", "keywarden.io/containers", "migrate"),
                    "app"),
                "migrate")),
        arguments(
            "signal, mount path and every option",
            WITH_CA,
            podAsUser(
                Map.of(
                    "keywarden.io/secret.db",
                    "db",
                    "keywarden.io/on-change",
                    "signal:SIGHUP",
                    "keywarden.io/mount-path",
                    "/secrets",
                    "keywarden.io/refresh",
                    "30s"),
                "app",
                1000)));
  }

  @ParameterizedTest(name = "second mutation changes nothing: {0}")
  @MethodSource("idempotency")
  void secondMutationChangesNothing(String name, AgentSettings settings, Pod pod) {
    Pod once = inject(settings, pod);
    Pod twice = inject(settings, copy(once));
    assertThat(twice).isEqualTo(once);
  }

  @ParameterizedTest(name = "mutating the stored pod is an empty patch: {0}")
  @MethodSource("idempotency")
  void mutatingTheStoredPodIsAnEmptyPatch(String name, AgentSettings settings, Pod pod) {
    Pod stored = asStored(inject(settings, pod));
    Pod again = inject(settings, copy(stored));
    ObjectMapper json = new ObjectMapper();
    assertThat(JsonDiff.asJson(json.valueToTree(stored), json.valueToTree(again))).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("idempotency")
  void switchingSidecarModeLeavesNoTrace(String name, AgentSettings settings, Pod pod) {
    AgentSettings other =
        new AgentSettings(
            settings.image(), settings.apiUrl(), settings.apiCaPem(), !settings.nativeSidecars());
    Pod switched = inject(settings, inject(other, copy(pod)));
    assertThat(switched).isEqualTo(inject(settings, copy(pod)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("idempotency")
  void changedAnnotationsRebuildTheAgent(String name, AgentSettings settings, Pod pod) {
    Pod once = inject(settings, copy(pod));
    once.getMetadata().getAnnotations().put("keywarden.io/mount-path", "/elsewhere");
    Pod rebuilt = inject(settings, once);
    Pod fresh = copy(pod);
    fresh.getMetadata().getAnnotations().put("keywarden.io/mount-path", "/elsewhere");
    assertThat(rebuilt.getSpec()).isEqualTo(inject(settings, fresh).getSpec());
  }

  static Stream<Arguments> denials() {
    return Stream.of(
        arguments(
            "unknown container",
            pod(
                Map.of("keywarden.io/secret.db", "db", "keywarden.io/containers", "app,sidecar"),
                "app"),
            "annotation keywarden.io/containers: the pod has no container 'sidecar' (its containers: app)"),
        arguments(
            "the agent is not an app container",
            pod(
                Map.of(
                    "keywarden.io/secret.db", "db", "keywarden.io/containers", "keywarden-agent"),
                "app"),
            "annotation keywarden.io/containers: the pod has no container 'keywarden-agent'"),
        arguments(
            "mount path over the token directory",
            pod(
                Map.of(
                    "keywarden.io/secret.db", "db", "keywarden.io/mount-path", "/var/run/secrets"),
                "app"),
            "annotation keywarden.io/mount-path: mount path '/var/run/secrets' overlaps"),
        arguments(
            "mount path taken by another volume",
            withMount(pod(ONE_FILE, "app"), "config", PATH),
            "annotation keywarden.io/mount-path: container 'app' already mounts volume 'config' at '"
                + PATH
                + "'"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("denials")
  void deniesWithTheAnnotationNamed(String name, Pod pod, String message) {
    assertThatThrownBy(() -> inject(NATIVE, pod))
        .isInstanceOf(InvalidAnnotationException.class)
        .hasMessageStartingWith(message);
  }

  /** A pod whose one container {@code app} runs as {@code uid}. */
  private static Pod podAsUser(Map<String, String> annotations, String app, long uid) {
    return TestPods.asUser(TestPods.pod(annotations, app), uid);
  }

  private static Pod inject(AgentSettings settings, Pod pod) {
    return new PodInjector(settings)
        .inject(pod, InjectionConfigParser.parse(pod.getMetadata().getAnnotations()));
  }

  private static Pod withVolume(Pod pod, String name) {
    pod.getSpec()
        .getVolumes()
        .add(
            new io.fabric8.kubernetes.api.model.VolumeBuilder()
                .withName(name)
                .withNewEmptyDir()
                .endEmptyDir()
                .build());
    return pod;
  }

  private static Pod withMount(Pod pod, String volume, String path) {
    pod.getSpec().getContainers().get(0).getVolumeMounts().add(mount(volume, path, true));
    return withVolume(pod, volume);
  }

  private static VolumeMount mount(String name, String path, Boolean readOnly) {
    return new io.fabric8.kubernetes.api.model.VolumeMountBuilder()
        .withName(name)
        .withMountPath(path)
        .withReadOnly(readOnly)
        .build();
  }

  private static Volume volume(Pod pod, String name) {
    return pod.getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private static Container app(Pod pod, String name) {
    return Stream.concat(
            pod.getSpec().getInitContainers().stream(), pod.getSpec().getContainers().stream())
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private static Container agent(Pod pod) {
    return app(pod, "keywarden-agent");
  }

  private static String env(Container container, String name) {
    return Optional.ofNullable(container.getEnv()).orElse(List.of()).stream()
        .filter(e -> e.getName().equals(name))
        .findFirst()
        .map(EnvVar::getValue)
        .orElse(null);
  }
}
