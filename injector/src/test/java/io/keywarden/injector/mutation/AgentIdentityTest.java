package io.keywarden.injector.mutation;

import static io.keywarden.injector.mutation.TestPods.CLASSIC;
import static io.keywarden.injector.mutation.TestPods.NATIVE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.keywarden.injector.InjectionConfigParser;
import io.keywarden.injector.InvalidAnnotationException;
import io.keywarden.injector.config.AgentSettings;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every combination of the pod's and containers' runAsUser / runAsGroup / fsGroup with
 * keywarden.io/file-mode and keywarden.io/on-change: the agent runs as a user and group that lets
 * the app read its files and receive its signal, or the pod is denied naming what to set.
 */
class AgentIdentityTest {

  private static final long AGENT = AgentContainerBuilder.AGENT_UID;

  /** Pod-level security context: runAsUser, runAsGroup, fsGroup (null = unset). */
  private static PodSecurityContext pod(Long user, Long group, Long fsGroup) {
    return new PodSecurityContextBuilder()
        .withRunAsUser(user)
        .withRunAsGroup(group)
        .withFsGroup(fsGroup)
        .build();
  }

  private static SecurityContext own(Long user, Long group) {
    return new SecurityContextBuilder().withRunAsUser(user).withRunAsGroup(group).build();
  }

  private static final PodSecurityContext NONE = null;

  /** name, pod context, app containers' contexts, file mode, on-change, agent uid, agent gid. */
  static Stream<Arguments> admitted() {
    return Stream.of(
        arguments("nothing set, default mode", NONE, List.of(none()), null, null, AGENT, null),
        arguments(
            "pod runAsUser 1000, owner-only 0400",
            pod(1000L, null, null),
            List.of(none()),
            "0400",
            null,
            1000L,
            null),
        arguments(
            "pod runAsUser 1000, SIGHUP",
            pod(1000L, null, null),
            List.of(none()),
            null,
            "signal:SIGHUP",
            1000L,
            null),
        arguments(
            "pod runAsUser and runAsGroup, 0440 and SIGUSR1",
            pod(1000L, 3000L, null),
            List.of(none()),
            "0440",
            "signal:SIGUSR1",
            1000L,
            3000L),
        arguments(
            "container runAsUser overrides the pod's",
            pod(1000L, null, null),
            List.of(own(2000L, null)),
            "0400",
            "signal:SIGHUP",
            2000L,
            null),
        arguments(
            "two containers, the same user from pod and container",
            pod(1000L, null, null),
            List.of(none(), own(1000L, null)),
            "0600",
            null,
            1000L,
            null),
        arguments(
            "two containers, same user, different groups: no common group",
            pod(1000L, null, null),
            List.of(own(null, 1L), own(null, 2L)),
            "0400",
            null,
            1000L,
            null),
        arguments(
            "unknown user, fsGroup, group-readable 0440",
            pod(null, null, 2000L),
            List.of(none()),
            "0440",
            null,
            AGENT,
            null),
        arguments(
            "different users, fsGroup, 0440",
            pod(null, null, 2000L),
            List.of(own(1000L, null), own(1001L, null)),
            "0440",
            null,
            AGENT,
            null),
        arguments(
            "unknown user, common runAsGroup 3000, 0440",
            pod(null, 3000L, null),
            List.of(none()),
            "0440",
            null,
            AGENT,
            3000L),
        arguments(
            "root app, world-readable 0644",
            pod(0L, null, null),
            List.of(none()),
            "0644",
            null,
            AGENT,
            null),
        arguments(
            "different users, world-readable 0604",
            NONE,
            List.of(own(1000L, null), own(2000L, null)),
            "0604",
            "exec:kill -HUP 1",
            AGENT,
            null));
  }

  /** A container that sets nothing of its own. */
  private static SecurityContext none() {
    return new SecurityContext();
  }

  @ParameterizedTest(name = "{0}: agent runs as {5}:{6}")
  @MethodSource("admitted")
  void admitsWithAnAgentTheAppCanHear(
      String name,
      PodSecurityContext podContext,
      List<SecurityContext> containers,
      String fileMode,
      String onChange,
      long agentUser,
      Long agentGroup) {
    for (AgentSettings settings : List.of(NATIVE, CLASSIC)) {
      Pod pod = inject(settings, podContext, containers, fileMode, onChange);

      List<Container> agents =
          Stream.concat(
                  pod.getSpec().getInitContainers().stream(),
                  pod.getSpec().getContainers().stream())
              .filter(c -> c.getName().startsWith(AgentContainerBuilder.AGENT))
              .toList();
      assertThat(agents).hasSize(settings.nativeSidecars() ? 1 : 2);
      for (Container agent : agents) {
        SecurityContext context = agent.getSecurityContext();
        assertThat(context.getRunAsUser()).as(agent.getName()).isEqualTo(agentUser);
        assertThat(context.getRunAsGroup()).as(agent.getName()).isEqualTo(agentGroup);
        assertThat(context.getRunAsNonRoot()).isTrue();
        assertThat(context.getCapabilities().getDrop()).containsExactly("ALL");
      }
      // The app's own settings are never changed.
      assertThat(pod.getSpec().getSecurityContext()).isEqualTo(podContext);
    }
  }

  /** name, pod context, containers' contexts, file mode, on-change, denied annotation, message. */
  static Stream<Arguments> denied() {
    return Stream.of(
        arguments(
            "no runAsUser, owner-only 0400 (the reported case with an unknown user)",
            NONE,
            List.of(none()),
            "0400",
            null,
            "keywarden.io/file-mode",
            "file mode 0400 lets only its owner read a file, and the agent cannot write the files"
                + " as the app's user or group: container app sets no runAsUser and neither does"
                + " the pod; set a non-root spec.securityContext.runAsUser (or the same runAsUser"
                + " on every container that mounts the files), or set"
                + " spec.securityContext.fsGroup with a group-readable mode such as 0440, or leave"
                + " the mode at 0644"),
        arguments(
            "no runAsUser, SIGHUP",
            NONE,
            List.of(none()),
            null,
            "signal:SIGHUP",
            "keywarden.io/on-change",
            "signal:SIGHUP needs the agent to run as the app's user to signal it, but container"
                + " app sets no runAsUser and neither does the pod; set a non-root"
                + " spec.securityContext.runAsUser (or the same runAsUser on every container that"
                + " mounts the files), or use exec:<command>"),
        arguments(
            "root app, SIGHUP",
            pod(0L, null, null),
            List.of(none()),
            null,
            "signal:SIGHUP",
            "keywarden.io/on-change",
            "container app runs as root (uid 0)"),
        arguments(
            "root app, 0400",
            pod(0L, null, null),
            List.of(none()),
            "0400",
            null,
            "keywarden.io/file-mode",
            "container app runs as root (uid 0)"),
        arguments(
            "two users, SIGTERM even with fsGroup",
            pod(null, null, 2000L),
            List.of(own(1000L, null), own(2000L, null)),
            "0440",
            "signal:SIGTERM",
            "keywarden.io/on-change",
            "run as different users [1000, 2000]"),
        arguments(
            "two users, 0440 without fsGroup or common group",
            NONE,
            List.of(own(1000L, null), own(2000L, null)),
            "0440",
            null,
            "keywarden.io/file-mode",
            "lets only its owner and group read a file"),
        arguments(
            "container runAsUser 0 overrides the pod's 1000",
            pod(1000L, null, null),
            List.of(own(0L, null)),
            "0600",
            null,
            "keywarden.io/file-mode",
            "container app runs as root"),
        arguments(
            "fsGroup but owner-only 0400, unknown user",
            pod(null, null, 2000L),
            List.of(none()),
            "0400",
            null,
            "keywarden.io/file-mode",
            "lets only its owner read"));
  }

  @ParameterizedTest(name = "{0}: denied naming {5}")
  @MethodSource("denied")
  void deniesSayingWhatToSet(
      String name,
      PodSecurityContext podContext,
      List<SecurityContext> containers,
      String fileMode,
      String onChange,
      String annotation,
      String message) {
    assertThatThrownBy(() -> inject(NATIVE, podContext, containers, fileMode, onChange))
        .isInstanceOfSatisfying(
            InvalidAnnotationException.class, e -> assertThat(e.annotation()).isEqualTo(annotation))
        .hasMessageStartingWith("annotation " + annotation + ": ")
        .hasMessageContaining(message);
  }

  private static Pod inject(
      AgentSettings settings,
      PodSecurityContext podContext,
      List<SecurityContext> containers,
      String fileMode,
      String onChange) {
    Map<String, String> annotations = new HashMap<>();
    annotations.put("keywarden.io/secret.db", "db");
    if (fileMode != null) {
      annotations.put("keywarden.io/file-mode", fileMode);
    }
    if (onChange != null) {
      annotations.put("keywarden.io/on-change", onChange);
    }
    String[] names = new String[containers.size()];
    for (int i = 0; i < names.length; i++) {
      names[i] = i == 0 ? "app" : "app" + (i + 1);
    }
    Pod pod = TestPods.pod(annotations, names);
    pod.getSpec().setSecurityContext(podContext);
    for (int i = 0; i < names.length; i++) {
      pod.getSpec().getContainers().get(i).setSecurityContext(containers.get(i));
    }
    return new PodInjector(settings).inject(pod, InjectionConfigParser.parse(annotations));
  }
}
