package io.keywarden.injector.mutation;

import static io.keywarden.injector.mutation.TestPods.CLASSIC;
import static io.keywarden.injector.mutation.TestPods.NATIVE;
import static io.keywarden.injector.mutation.TestPods.pod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.keywarden.agent.AgentConfig;
import io.keywarden.contract.AgentEnv;
import io.keywarden.contract.OnChange;
import io.keywarden.contract.Refresh;
import io.keywarden.injector.InjectionConfig;
import io.keywarden.injector.InjectionConfigParser;
import io.keywarden.injector.SecretFile;
import io.keywarden.injector.config.AgentSettings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The injector's output is the agent's input: the environment of every agent container the injector
 * builds is parsed by the agent's own {@link AgentConfig#fromEnv}, and what the agent understands
 * is what the annotations said.
 */
class AgentContractTest {

  @TempDir Path outputDir;

  static Stream<Arguments> pods() {
    return Stream.of(
        arguments("one raw file, defaults", Map.of("keywarden.io/secret.db", "db-password")),
        arguments(
            "every per-file annotation",
            Map.of(
                "keywarden.io/secret.app.env", "app-config",
                "keywarden.io/format.app.env", "env",
                "keywarden.io/stage.app.env", "PENDING",
                "keywarden.io/secret.pw", "db",
                "keywarden.io/key.pw", "pass\"word é\u2028",
                "keywarden.io/format.pw", "json",
                "keywarden.io/stage.pw", "PREVIOUS",
                "keywarden.io/secret.cfg", "db",
                "keywarden.io/format.cfg", "properties")),
        arguments(
            "owner-only file mode, compound interval, SIGWINCH",
            Map.of(
                "keywarden.io/secret.db", "db",
                "keywarden.io/file-mode", "0400",
                "keywarden.io/refresh", "1h30m",
                "keywarden.io/on-change", "signal:SIGWINCH")),
        arguments(
            "every signal the contract knows: SIGQUIT",
            Map.of("keywarden.io/secret.db", "db", "keywarden.io/on-change", "signal:SIGQUIT")),
        arguments(
            "seconds that render as minutes and seconds, exec",
            Map.of(
                "keywarden.io/secret.db", "db",
                "keywarden.io/refresh", "90s",
                "keywarden.io/file-mode", "0400",
                "keywarden.io/on-change", "exec:nginx -s reload")),
        arguments(
            "AWS SDK and loopback endpoint on its own port, no secret files",
            Map.of(
                "keywarden.io/aws-sdk", "true",
                "keywarden.io/aws-endpoint", "true",
                "keywarden.io/aws-endpoint-port", "8080")),
        arguments(
            "loopback endpoint beside a file",
            Map.of("keywarden.io/aws-endpoint", "true", "keywarden.io/secret.db", "db")),
        arguments(
            "refresh none, custom mount path",
            Map.of(
                "keywarden.io/secret.db", "db",
                "keywarden.io/refresh", "none",
                "keywarden.io/mount-path", "/etc/app/secrets")));
  }

  @ParameterizedTest(name = "native sidecar: {0}")
  @MethodSource("pods")
  void nativeAgentUnderstandsTheInjector(String name, Map<String, String> annotations)
      throws Exception {
    agentUnderstands(NATIVE, annotations, AgentContainerBuilder.AGENT, false);
  }

  @ParameterizedTest(name = "classic init container: {0}")
  @MethodSource("pods")
  void oneShotAgentUnderstandsTheInjector(String name, Map<String, String> annotations)
      throws Exception {
    agentUnderstands(CLASSIC, annotations, AgentContainerBuilder.AGENT_INIT, true);
  }

  private void agentUnderstands(
      AgentSettings settings, Map<String, String> annotations, String container, boolean oneShot)
      throws Exception {
    InjectionConfig config = InjectionConfigParser.parse(annotations);
    // A known user, so that owner-only modes and signals are admitted (AgentIdentityTest).
    Pod pod =
        new PodInjector(settings).inject(TestPods.asUser(pod(annotations, "app"), 1000), config);
    Map<String, String> env = environment(agent(pod, container));
    assertThat(env).containsEntry(AgentEnv.OUTPUT_DIR, config.mountPath());
    // The agent checks that its output directory exists; the mount path exists only in the pod.
    env.put(AgentEnv.OUTPUT_DIR, outputDir.toString());

    AgentConfig agent = AgentConfig.fromEnv(env);

    assertThat(agent.apiUrl()).hasToString(settings.apiUrl());
    assertThat(agent.namespace()).isEqualTo("apps");
    assertThat(agent.tokenFile()).isEqualTo(Path.of(Volumes.TOKEN_FILE));
    assertThat(agent.oneShot()).isEqualTo(oneShot);
    assertThat(agent.fileMode()).isEqualTo(config.fileMode());
    assertThat(agent.files()).hasSameSizeAs(config.files());
    for (int i = 0; i < config.files().size(); i++) {
      SecretFile file = config.files().get(i);
      AgentConfig.FileSpec spec = agent.files().get(i);
      assertThat(spec.file()).isEqualTo(file.fileName());
      assertThat(spec.ref().secret()).isEqualTo(file.secretName());
      assertThat(spec.ref().stage()).isEqualTo(file.stage().name());
      assertThat(spec.key()).isEqualTo(file.key().orElse(null));
      // By name: the agent jar carries its own copy of the contract classes.
      assertThat(spec.format().configName()).isEqualTo(file.format().configName());
    }
    assertThat(agent.refresh()).isEqualTo(expected(config.refresh()));
    assertThat(agent.onChange()).isEqualTo(expected(config));
    if (config.aws().endpoint()) {
      assertThat(agent.awsEndpointPort()).hasValue(config.aws().endpointPort());
      // The SSRF token is the keywarden.io token file the app containers mount too.
      assertThat(agent.ssrfToken().orElseThrow().file()).isEqualTo(Path.of(Volumes.TOKEN_FILE));
    } else {
      assertThat(agent.awsEndpointPort()).isEmpty();
    }
    assertThat(agent.awsDir()).isEmpty();
  }

  private static AgentConfig.Refresh expected(Refresh refresh) {
    if (refresh instanceof Refresh.Every every) {
      return new AgentConfig.Refresh(AgentConfig.Refresh.Mode.INTERVAL, every.interval());
    }
    return new AgentConfig.Refresh(
        refresh instanceof Refresh.Never
            ? AgentConfig.Refresh.Mode.NONE
            : AgentConfig.Refresh.Mode.WATCH,
        null);
  }

  private static AgentConfig.OnChange expected(InjectionConfig config) {
    if (config.onChange().isEmpty()) {
      return new AgentConfig.OnChange(AgentConfig.OnChange.Kind.NONE, null, null);
    }
    OnChange onChange = config.onChange().get();
    if (onChange instanceof OnChange.SendSignal send) {
      return new AgentConfig.OnChange(AgentConfig.OnChange.Kind.SIGNAL, send.signal().name(), null);
    }
    return new AgentConfig.OnChange(
        AgentConfig.OnChange.Kind.EXEC, null, ((OnChange.Exec) onChange).command());
  }

  private static Container agent(Pod pod, String name) {
    return Stream.concat(
            pod.getSpec().getInitContainers().stream(), pod.getSpec().getContainers().stream())
        .filter(container -> container.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  /** The environment kubelet would give the container: values, and the namespace field ref. */
  private static Map<String, String> environment(Container container) {
    Map<String, String> env = new HashMap<>();
    for (EnvVar variable : container.getEnv()) {
      if (variable.getValueFrom() != null) {
        assertThat(variable.getValueFrom().getFieldRef().getFieldPath())
            .isEqualTo("metadata.namespace");
        env.put(variable.getName(), "apps");
      } else {
        env.put(variable.getName(), variable.getValue() == null ? "" : variable.getValue());
      }
    }
    assertThat(env.keySet())
        .allMatch(
            List.of(AgentEnv.class.getFields()).stream()
                    .map(
                        field -> {
                          try {
                            return (String) field.get(null);
                          } catch (IllegalAccessException e) {
                            throw new IllegalStateException(e);
                          }
                        })
                    .toList()
                ::contains);
    return env;
  }
}
