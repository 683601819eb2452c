package io.keywarden.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.ExecWatch;
import io.keywarden.e2e.AppLog.Line;
import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Files and signals for the app's own user, on the real node (issue 13 item 5, docs/injection.md
 * "File ownership and signals"): for each combination of the pod's and the containers' runAsUser,
 * runAsGroup and fsGroup with a file mode and an on-change signal that the injector admits, the app
 * container reads its file as its own user (kubelet, containerd and runc decide the process's uid,
 * gid and groups, and the memory volume's ownership) and receives its signal. Each app prints who
 * it is, the file's mode and owner, and what it read; the signalled ones then wait for the signal
 * that a put sends. The denied combinations never reach a node: InjectorWebhookIT shows them.
 */
@KubernetesIT(node = true)
class AppUserPodsIT {

  private static final String DIR = "/var/run/secrets/keywarden";
  private static final String AGENT = "keywarden-agent";
  private static final Duration POD_START = Duration.ofSeconds(180);

  /** A bound on signal delivery after a put; the goal is well under a second. */
  private static final Duration SIGNAL_BOUND = Duration.ofSeconds(5);

  /** The image user of {@link TestImages#importBusyboxAsUser}: not in any pod spec. */
  private static final long IMAGE_USER = 1234;

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The app: who it runs as, the file's mode, owner and group as it sees them, what it read; with
   * {@code SIGNAL} set it then waits for that signal and prints what it reads on it.
   */
  private static final String APP =
      """
      d=%s
      echo "ID $(id -u) $(id -g) $(id -G | tr ' ' ,)"
      echo "STAT $(stat -L -c '%%a %%u %%g' $d/db)"
      if v=$(cat $d/db 2>&1); then echo "READ $v"; else echo "DENIED $v"; exit 1; fi
      [ -z "$SIGNAL" ] && exit 0
      got=
      trap 'got=1' $SIGNAL
      echo "WAITING for $SIGNAL"
      while [ -z "$got" ]; do sleep 0.1; done
      echo "SIGNAL $SIGNAL $(cat $d/db)"
      """
          .formatted(DIR);

  /**
   * One pod of the table in docs/injection.md.
   *
   * @param agentUser the agent's runAsUser and runAsGroup the injector must choose ("1000", or
   *     "65532:3000")
   * @param stat the file's mode, owner and group as each app sees them, a prefix ("400 1000 ")
   * @param ids each app container's `id -u`, `id -g` and `id -G` line, a prefix
   * @param signal the on-change signal the apps wait for, or null
   */
  private record Case(
      String name,
      Pod pod,
      String agentUser,
      String stat,
      Map<String, String> ids,
      String signal) {}

  private HostKeywarden keywarden;

  @AfterEach
  void stop() {
    if (keywarden != null) {
      keywarden.close();
    }
  }

  @Test
  void appsReadTheirFilesAndGetTheirSignalsAsTheirOwnUsers(
      TestCluster cluster, ClusterNode node, TestNamespace namespace) throws Exception {
    KubernetesClient admin = cluster.admin();
    String ns = namespace.name();
    TestImages.importAgent(node);
    String busybox = node.busyboxImage();
    String userImage = TestImages.importBusyboxAsUser(node, IMAGE_USER);
    keywarden = new HostKeywarden(cluster, ns, node.ip());
    String apiCa = keywarden.awaitPublishedApiCa();
    keywarden.startInjector(ns);
    keywarden.dbTenant(ns);
    ValueApi api = new ValueApi(keywarden.hostApiUrl(), apiCa);
    String writer = cluster.token(ns, "writer", "keywarden.io", 3600);

    List<Case> cases =
        List.of(
            // 1: the app's user, an owner-only mode.
            new Case(
                "owner-only",
                pod("owner-only", podContext(1000L, null, null), "0400", null, app("app", busybox)),
                "1000",
                "400 1000 ",
                Map.of("app", "ID 1000 "),
                null),
            // 2: the app's user, the default mode, a SIGHUP on change.
            new Case(
                "signal",
                pod("signal", podContext(1000L, null, null), null, "HUP", app("app", busybox)),
                "1000",
                "644 1000 ",
                Map.of("app", "ID 1000 "),
                "HUP"),
            // 3: the app's user and group, group-readable, SIGUSR1.
            new Case(
                "user-and-group",
                pod(
                    "user-and-group",
                    podContext(1000L, 3000L, null),
                    "0440",
                    "USR1",
                    app("app", busybox)),
                "1000:3000",
                "440 1000 3000",
                Map.of("app", "ID 1000 3000 "),
                "USR1"),
            // 4: the container's user wins over the pod's.
            new Case(
                "container-user",
                pod(
                    "container-user",
                    podContext(1000L, null, null),
                    "0400",
                    "HUP",
                    withUser(app("app", busybox), 2000L, null)),
                "2000",
                "400 2000 ",
                Map.of("app", "ID 2000 "),
                "HUP"),
            // 5: the image's user (unknown to the injector), the pod's fsGroup. kubelet passes
            // the image's uid without its gid, so the app's group is 0; fsGroup is supplementary.
            new Case(
                "fsgroup",
                pod("fsgroup", podContext(null, null, 2000L), "0440", null, app("app", userImage)),
                "65532",
                "440 65532 2000",
                Map.of("app", "ID 1234 0 0,2000"),
                null),
            // 6: two containers of different users, the pod's fsGroup.
            new Case(
                "two-users",
                pod(
                    "two-users",
                    podContext(null, null, 2000L),
                    "0440",
                    null,
                    withUser(app("app", busybox), 1000L, null),
                    withUser(app("app2", busybox), 1001L, null)),
                "65532",
                "440 65532 2000",
                Map.of("app", "ID 1000 0 0,2000", "app2", "ID 1001 0 0,2000"),
                null),
            // 7: two containers of different users that share a runAsGroup, no fsGroup. (A pod
            // runAsGroup without a pod runAsUser never starts on containerd: its sandbox fails
            // with 'user group "3000" is specified without user', whatever the injector does.)
            new Case(
                "shared-group",
                pod(
                    "shared-group",
                    podContext(null, null, null),
                    "0440",
                    null,
                    withUser(app("app", busybox), 1000L, 3000L),
                    withUser(app("app2", busybox), 1001L, 3000L)),
                "65532:3000",
                "440 65532 3000",
                Map.of("app", "ID 1000 3000 3000", "app2", "ID 1001 3000 3000"),
                null),
            // 8: no security context at all, the default mode.
            new Case(
                "no-context",
                pod("no-context", null, null, null, app("app", userImage)),
                "65532",
                "644 65532 ",
                Map.of("app", "ID 1234 0 0"),
                null));

    for (Case c : cases) {
      Pod stored = admin.pods().inNamespace(ns).resource(c.pod()).create();
      SecurityContext agent = agentContainer(stored).getSecurityContext();
      String agentUser =
          agent.getRunAsUser() + (agent.getRunAsGroup() == null ? "" : ":" + agent.getRunAsGroup());
      assertThat(agentUser).as("the agent's user in pod %s", c.name()).isEqualTo(c.agentUser());
    }

    String first = api.get(writer, ns, "db");
    for (Case c : cases) {
      for (Map.Entry<String, String> container : c.ids().entrySet()) {
        AppLog log = new AppLog(admin, ns, c.name(), container.getKey());
        String where = c.name() + "/" + container.getKey();
        Line read =
            await()
                .atMost(POD_START)
                .pollInterval(Duration.ofMillis(500))
                .ignoreExceptions()
                .until(
                    () ->
                        log.lines().stream()
                            .filter(
                                l -> l.text().startsWith("READ ") || l.text().startsWith("DENIED "))
                            .findFirst()
                            .orElse(null),
                    l -> l != null);
        assertThat(read.text()).as(where).startsWith("READ ");
        assertThat(log.lines("ID"))
            .as(where)
            .singleElement()
            .extracting(Line::text)
            .asString()
            .startsWith(container.getValue());
        assertThat(log.lines("STAT"))
            .as(where)
            .singleElement()
            .extracting(Line::text)
            .asString()
            .startsWith("STAT " + c.stat());
        assertThat(log.lines("READ"))
            .as(where)
            .singleElement()
            .extracting(Line::text)
            .isEqualTo("READ " + first);
      }
    }

    // The token the agent authenticates with (pod "signal": every container runs as 1000): kubelet
    // makes it the agent's own file; the agent has no Kubernetes API token, the app still does.
    assertThat(exec(admin, ns, "signal", AGENT, "stat", "-L", "-c", "%a %u", DIR + "-token/token"))
        .isEqualTo("600 1000");
    String apiTokenDir = "/var/run/secrets/kubernetes.io/serviceaccount";
    assertThat(exec(admin, ns, "signal", AGENT, "ls", apiTokenDir)).isEqualTo("token");
    JsonNode claims = jwtClaims(exec(admin, ns, "signal", AGENT, "cat", apiTokenDir + "/token"));
    assertThat(claims.get("aud")).extracting(JsonNode::asText).containsExactly("keywarden.io");
    assertThat(exec(admin, ns, "signal", "app", "ls", apiTokenDir).lines())
        .containsExactly("ca.crt", "namespace", "token");

    // A put: each signalled app gets its signal, as its own user, and then reads the new value.
    List<Case> signalled = cases.stream().filter(c -> c.signal() != null).toList();
    for (Case c : signalled) {
      new AppLog(admin, ns, c.name(), "app").await("WAITING", l -> true, Duration.ofSeconds(30));
    }
    String put =
        "{\"username\":\"orders\",\"password\":\"put-"
            + UUID.randomUUID().toString().replace("-", "")
            + "\"}";
    Instant putAt = Instant.now();
    api.put(writer, ns, "db", put);
    for (Case c : signalled) {
      Line signal =
          new AppLog(admin, ns, c.name(), "app").await("SIGNAL", l -> true, Duration.ofSeconds(30));
      assertThat(signal.text()).isEqualTo("SIGNAL " + c.signal() + " " + put);
      Duration latency = Duration.between(putAt, signal.time());
      System.out.printf(
          "put -> SIG%s reached the app of pod %s: %d ms%n",
          c.signal(), c.name(), latency.toMillis());
      assertThat(latency).as(c.name()).isLessThan(SIGNAL_BOUND);
    }

    // Every app has ended; kubelet then stops the agent with SIGTERM, its normal end: exit 0.
    for (Case c : cases) {
      Pod done =
          admin
              .pods()
              .inNamespace(ns)
              .withName(c.name())
              .waitUntilCondition(
                  p -> p != null && "Succeeded".equals(p.getStatus().getPhase()),
                  POD_START.toSeconds(),
                  TimeUnit.SECONDS);
      ContainerStateTerminated agent =
          done.getStatus().getInitContainerStatuses().stream()
              .filter(s -> s.getName().equals(AGENT))
              .findFirst()
              .orElseThrow()
              .getState()
              .getTerminated();
      assertThat(agent).as("the agent of pod %s has ended", c.name()).isNotNull();
      assertThat(agent.getExitCode()).as("the agent's exit code in pod %s", c.name()).isZero();
      assertThat(agent.getReason()).isEqualTo("Completed");
    }
  }

  private static PodSecurityContext podContext(Long runAsUser, Long runAsGroup, Long fsGroup) {
    return new PodSecurityContextBuilder()
        .withRunAsUser(runAsUser)
        .withRunAsGroup(runAsGroup)
        .withFsGroup(fsGroup)
        .withRunAsNonRoot(true)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .build();
  }

  /** An app container under the restricted profile, running {@link #APP}. */
  private static Container app(String name, String image) {
    return new ContainerBuilder()
        .withName(name)
        .withImage(image)
        .withCommand("sh", "-c", APP)
        .withSecurityContext(
            new SecurityContextBuilder()
                .withReadOnlyRootFilesystem(true)
                .withAllowPrivilegeEscalation(false)
                .withNewCapabilities()
                .withDrop("ALL")
                .endCapabilities()
                .build())
        .build();
  }

  private static Container withUser(Container container, long runAsUser, Long runAsGroup) {
    container.getSecurityContext().setRunAsUser(runAsUser);
    container.getSecurityContext().setRunAsGroup(runAsGroup);
    return container;
  }

  private static Pod pod(
      String name,
      PodSecurityContext context,
      String fileMode,
      String signal,
      Container... containers) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put("keywarden.io/secret.db", "db");
    if (fileMode != null) {
      annotations.put("keywarden.io/file-mode", fileMode);
    }
    if (signal != null) {
      annotations.put("keywarden.io/on-change", "signal:SIG" + signal);
    }
    List<Container> apps = new ArrayList<>();
    for (Container container : containers) {
      Container app = new ContainerBuilder(container).build();
      if (signal != null) {
        app.setEnv(List.of(new EnvVar("SIGNAL", signal, null)));
      }
      if (context == null) {
        app.setSecurityContext(
            app.getSecurityContext().getRunAsUser() == null ? null : app.getSecurityContext());
      }
      apps.add(app);
    }
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("keywarden.io/inject", "true")
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName("app")
        .withRestartPolicy("Never")
        .withTerminationGracePeriodSeconds(10L)
        .withSecurityContext(context)
        .withContainers(apps)
        .endSpec()
        .build();
  }

  private static Container agentContainer(Pod pod) {
    return pod.getSpec().getInitContainers().stream()
        .filter(c -> c.getName().equals(AGENT))
        .findFirst()
        .orElseThrow();
  }

  private static String exec(
      KubernetesClient admin, String ns, String pod, String container, String... command)
      throws Exception {
    try (ExecWatch watch =
        admin
            .pods()
            .inNamespace(ns)
            .withName(pod)
            .inContainer(container)
            .redirectingOutput()
            .exec(command)) {
      byte[] out = watch.getOutput().readAllBytes();
      watch.exitCode().get(30, TimeUnit.SECONDS);
      return new String(out, StandardCharsets.UTF_8).strip();
    }
  }

  private static JsonNode jwtClaims(String jwt) throws Exception {
    return JSON.readTree(Base64.getUrlDecoder().decode(jwt.strip().split("\\.")[1]));
  }
}
