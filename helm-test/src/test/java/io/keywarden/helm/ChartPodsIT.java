package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The chart as users run it: {@code helm install} with the default values (and {@code kubectl apply
 * -f deploy/keywarden.yaml}) starts the operator and the injector as pods on the test node, from
 * the images {@code make images} builds, under the chart's RBAC, ServiceAccounts and security
 * contexts. Nothing of Keywarden runs on the host: the apiserver calls the injector through its
 * Service, and the injected agents reach the operator by its cluster DNS name, the chart's default
 * API URL.
 *
 * <p>The release's webhook is limited to namespaces labelled for it ({@link Release}), so other
 * suites sharing the cluster never reach it; every other value is the default.
 */
@KubernetesIT(node = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartPodsIT {

  private static final Duration READY = Duration.ofMinutes(5);
  private static final String FILES = "/var/run/secrets/keywarden";
  private static final String RUN =
      Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
  private static final String SYSTEM = "kw-pods-" + RUN;
  private static final String APPS = SYSTEM + "-apps";

  private static Tools tools;
  private static Release release;
  private static List<Pod> started;
  private static Duration installToReady;

  /** One release for the ordered tests below: helm install with the default values. */
  @BeforeAll
  static void install(TestCluster cluster) throws Exception {
    ChartImages.importInto(cluster.node());
    tools = new Tools(cluster);
    KubernetesClient admin = cluster.admin();
    Release.createNamespaces(admin, SYSTEM, APPS);
    Instant installed = Instant.now();
    release = Release.install(tools, SYSTEM);
    started = awaitKeywardenReady(admin, SYSTEM);
    installToReady = Duration.between(installed, Instant.now());
    System.out.printf(
        "helm install -> 2 operator and 2 injector pods Ready: %d ms%n", installToReady.toMillis());
  }

  @AfterAll
  static void uninstall(TestCluster cluster) {
    KubernetesClient admin = cluster.admin();
    try {
      if (tools != null) {
        // ManagedSecrets go while the operator runs (their finalizers need it).
        tools.kubectl(
            "delete", "-n", APPS, "managedsecrets,rotationschedules", "--all", "--wait=true");
      }
      if (release != null) {
        release.close();
      }
    } finally {
      admin.namespaces().withName(APPS).delete();
      admin.namespaces().withName(SYSTEM).delete();
      ChartImages.removeFrom(cluster.node());
    }
  }

  @Test
  @Order(1)
  void defaultValuesRunTwoOperatorsAndTwoInjectorsUnderTheChartsSecurityContext(
      TestCluster cluster) {
    assertThat(started).hasSize(4);
    for (Pod pod : started) {
      assertThat(pod.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
      assertThat(pod.getSpec().getContainers().get(0).getSecurityContext())
          .satisfies(c -> assertThat(c.getReadOnlyRootFilesystem()).isTrue())
          .satisfies(c -> assertThat(c.getAllowPrivilegeEscalation()).isFalse());
      assertThat(pod.getSpec().getContainers().get(0).getImage())
          .isIn(ChartImages.OPERATOR, ChartImages.INJECTOR);
    }
    assertNoRestarts(cluster.admin(), started);
    assertLeaderIsAnOperatorPod(cluster.admin(), SYSTEM, started);
    // The image's base has the libraries netty-tcnative needs, and the read-only root leaves it
    // the emptyDir /tmp to unpack into: the API serves with OpenSSL, not the JDK fallback.
    for (Pod pod : started) {
      if (pod.getSpec().getContainers().get(0).getImage().equals(ChartImages.OPERATOR)) {
        String log =
            cluster
                .admin()
                .pods()
                .inNamespace(SYSTEM)
                .withName(pod.getMetadata().getName())
                .getLog();
        assertThat(log).as(pod.getMetadata().getName()).contains("TLS: OpenSSL (BoringSSL");
      }
    }
  }

  @Test
  @Order(2)
  void injectedAppFromTheExamplesReadsItsSecretAndTheRotatedValue(
      TestCluster cluster, ClusterNode node) throws Exception {
    KubernetesClient admin = cluster.admin();
    // examples/: the generated secret, its schedule, and the injected pod (on the node's busybox).
    tools
        .kubectl(
            "apply",
            "-n",
            APPS,
            "-f",
            Tools.ROOT.resolve("examples/managedsecret-generated.yaml").toString(),
            "-f",
            Tools.ROOT.resolve("examples/rotationschedule.yaml").toString())
        .orFail();
    String pod =
        Files.readString(Tools.ROOT.resolve("examples/pod-injected.yaml"))
            .replace("image: busybox:1.37", "image: " + node.busyboxImage());
    assertThat(pod).contains(node.busyboxImage());
    tools.kubectlWithInput(pod, "apply", "-n", APPS, "-f", "-").orFail();
    Pod app = awaitReady(admin, APPS, "orders-app");
    assertThat(app.getSpec().getInitContainers())
        .as("the injector (a pod) added the agent")
        .anyMatch(c -> c.getName().equals("keywarden-agent"));

    Secret first = readFiles();
    assertThat(first.password()).hasSize(32);

    // A rotation now (the schedule's own window is weekly): the app reads the new value.
    Instant requested = Instant.now();
    Secret rotated = rotate("chart-pods-1", first);
    System.out.printf(
        "rotate-now -> app container read the new value: %d ms%n",
        Duration.between(requested, Instant.now()).toMillis());
    assertThat(rotated.password()).hasSize(32);
    assertThat(restarts(admin.pods().inNamespace(APPS).withName("orders-app").get())).isZero();
  }

  /**
   * The leader operator pod is deleted while rotations are asked for, one after another: the other
   * replica takes the Lease within its duration (15 s, plus the retry period), every request ends
   * in exactly one new version, and the app reads each new CURRENT (so it decrypts).
   */
  @Test
  @Order(3)
  void leaderPodDeletedDuringRotationsAnotherTakesOverNothingLostOrDoubled(TestCluster cluster)
      throws Exception {
    KubernetesClient admin = cluster.admin();
    List<Pod> pods = awaitKeywardenReady(admin, SYSTEM);
    String leader = assertLeaderIsAnOperatorPod(admin, SYSTEM, pods);
    String leaderPod =
        pods.stream()
            .map(p -> p.getMetadata().getName())
            .filter(leader::startsWith)
            .findFirst()
            .orElseThrow();
    Set<String> passwords = new HashSet<>();
    Set<String> versions = new HashSet<>();
    Secret last = readFiles();
    passwords.add(last.password());
    versions.add(currentVersion(admin));
    int rotations = 4;
    Duration takeover = null;
    for (int i = 0; i < rotations; i++) {
      if (i == 1) {
        // Asked for, then the leader goes: the request must survive it.
        annotateRotateNow("leader-" + RUN + "-" + i);
        Instant deleted = Instant.now();
        admin.pods().inNamespace(SYSTEM).withName(leaderPod).delete();
        String next =
            await()
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> leaseHolder(admin), h -> h != null && !h.equals(leader));
        takeover = Duration.between(deleted, Instant.now());
        System.out.printf(
            "leader pod deleted -> Lease taken by %s: %d ms%n", next, takeover.toMillis());
        last = awaitNewValue(last);
      } else {
        last = rotate("leader-" + RUN + "-" + i, last);
      }
      assertThat(passwords.add(last.password())).as("a new value per rotation").isTrue();
      awaitRotationDone(admin);
      assertThat(versions.add(currentVersion(admin))).as("a new CURRENT per rotation").isTrue();
    }
    assertThat(takeover).isLessThan(Duration.ofSeconds(15 + 2 + 5));
    // Nothing doubled: the example keeps 5 versions, and the 5 it keeps are exactly the CURRENT
    // before the first request and the one new version each of the 4 requests made.
    ManagedSecret db =
        admin.resources(ManagedSecret.class).inNamespace(APPS).withName("db-credentials").get();
    assertThat(db.getSpec().getVersionsToKeep()).isEqualTo(rotations + 1);
    assertThat(db.getStatus().getVersions().stream().map(SecretVersion::getVersionId))
        .containsExactlyInAnyOrderElementsOf(versions);
    assertThat(awaitKeywardenReady(admin, SYSTEM)).hasSize(4);
  }

  /**
   * An injector pod is killed (no grace) while 20 labelled pods are created one after another: with
   * failurePolicy Fail each is either admitted with the agent or refused, and none starts without
   * its files (the app exits 0 only when the file is there at its first step).
   */
  @Test
  @Order(4)
  void injectorKilledWhilePodsAreCreatedEveryPodIsInjectedOrDenied(
      TestCluster cluster, ClusterNode node) throws Exception {
    KubernetesClient admin = cluster.admin();
    List<Pod> injectors = readyPods(admin, SYSTEM, "keywarden-injector");
    assertThat(injectors).hasSize(2);
    int total = 20;
    List<String> admitted = new java.util.ArrayList<>();
    List<String> denied = new java.util.ArrayList<>();
    for (int i = 0; i < total; i++) {
      if (i == 3) {
        admin
            .pods()
            .inNamespace(SYSTEM)
            .withName(injectors.get(0).getMetadata().getName())
            .withGracePeriod(0)
            .delete();
      }
      String name = "burst-" + i;
      try {
        Pod created = admin.pods().inNamespace(APPS).resource(burstPod(node, name)).create();
        assertThat(created.getSpec().getInitContainers())
            .as("%s was admitted, so it must carry the agent", name)
            .anyMatch(c -> c.getName().equals("keywarden-agent"));
        admitted.add(name);
      } catch (io.fabric8.kubernetes.client.KubernetesClientException refused) {
        assertThat(refused.getMessage()).contains("inject.keywarden.io");
        denied.add(name);
      }
    }
    System.out.printf(
        "injector pod killed during %d creations: %d admitted with the agent, %d denied%n",
        total, admitted.size(), denied.size());
    assertThat(admitted.size() + denied.size()).isEqualTo(total);
    assertThat(admitted).isNotEmpty();
    for (String name : admitted) {
      Pod done =
          await()
              .atMost(Duration.ofMinutes(4))
              .pollInterval(Duration.ofSeconds(1))
              .until(
                  () -> admin.pods().inNamespace(APPS).withName(name).get(),
                  p ->
                      p.getStatus() != null
                          && List.of("Succeeded", "Failed").contains(p.getStatus().getPhase()));
      assertThat(done.getStatus().getPhase())
          .as("%s read its file at start", name)
          .isEqualTo("Succeeded");
    }
    admin.pods().inNamespace(APPS).withLabel("keywarden-test", "burst").delete();
    assertThat(awaitKeywardenReady(admin, SYSTEM)).hasSize(4);
  }

  private static Pod burstPod(ClusterNode node, String name) {
    return new io.fabric8.kubernetes.api.model.PodBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("keywarden.io/inject", "true")
        .addToLabels("keywarden-test", "burst")
        .addToAnnotations("keywarden.io/secret.db-password", "db-credentials")
        .addToAnnotations("keywarden.io/key.db-password", "password")
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName("orders")
        .withRestartPolicy("Never")
        .withTerminationGracePeriodSeconds(2L)
        .addNewContainer()
        .withName("app")
        .withImage(node.busyboxImage())
        .withCommand("sh", "-c", "test -s " + FILES + "/db-password && echo HAS-FILES")
        .endContainer()
        .endSpec()
        .build();
  }

  private static String leaseHolder(KubernetesClient admin) {
    Lease lease = admin.leases().inNamespace(SYSTEM).withName("keywarden-operator").get();
    return lease == null ? null : lease.getSpec().getHolderIdentity();
  }

  private static String currentVersion(KubernetesClient admin) {
    return admin
        .resources(ManagedSecret.class)
        .inNamespace(APPS)
        .withName("db-credentials")
        .get()
        .getStatus()
        .getCurrentVersionId();
  }

  private static void awaitRotationDone(KubernetesClient admin) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              ManagedSecret db =
                  admin
                      .resources(ManagedSecret.class)
                      .inNamespace(APPS)
                      .withName("db-credentials")
                      .get();
              return (db.getMetadata().getAnnotations() == null
                      || !db.getMetadata().getAnnotations().containsKey("keywarden.io/rotate-now"))
                  && db.getStatus().getRotation() == null;
            });
  }

  private static void annotateRotateNow(String request) {
    tools
        .kubectl(
            "annotate",
            "-n",
            APPS,
            "managedsecret",
            "db-credentials",
            "keywarden.io/rotate-now=" + request,
            "--overwrite")
        .orFail();
  }

  private static Secret rotate(String request, Secret before) {
    annotateRotateNow(request);
    return awaitNewValue(before);
  }

  private static Secret awaitNewValue(Secret before) {
    return await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .until(ChartPodsIT::readFiles, s -> !s.password().equals(before.password()));
  }

  /** The two files of examples/pod-injected.yaml as the app container reads them. */
  record Secret(String password, String json) {}

  private static Secret readFiles() {
    return readOneVersion(tools, APPS, "orders-app");
  }

  /**
   * The files db-password and db.json of the app container of {@code pod}, under
   * /var/run/secrets/keywarden, both of one version: read through ..data, which the agent and the
   * CSI plugin swap atomically, as the directory it points to now (two reads by their links may
   * straddle a swap). The password file must be the JSON's password.
   */
  static Secret readOneVersion(Tools tools, String namespace, String pod) {
    Tools.Result read = null;
    // 129: SIGHUP from the example's on-change reached the exec'd shell before its trap was set
    // (it lands on every process of the pod's shared process namespace); any other failure: the
    // version directory read from was replaced and removed meanwhile. Read again.
    for (int attempt = 0; attempt < 5 && (read == null || read.exitCode() != 0); attempt++) {
      read =
          tools.kubectl(
              "exec",
              "-n",
              namespace,
              pod,
              "-c",
              "app",
              "--",
              "sh",
              "-c",
              // The example's on-change signals SIGHUP into the pod's shared process
              // namespace, which holds this exec'd shell too: it ignores it (cat inherits that).
              "trap '' HUP; cd " + FILES + "/..data/ && cat db-password && echo && cat db.json");
    }
    String out = read.orFail();
    List<String> lines = out.lines().toList();
    Secret secret = new Secret(lines.get(0), String.join("\n", lines.subList(1, lines.size())));
    // One version: the password file is the JSON's password.
    assertThat(secret.json()).contains("\"password\"").contains(secret.password());
    return secret;
  }

  /** Waits for 2 Ready operator pods and 2 Ready injector pods; returns them. */
  static List<Pod> awaitKeywardenReady(KubernetesClient admin, String namespace) {
    return await()
        .atMost(READY)
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              List<Pod> operators = readyPods(admin, namespace, "keywarden-operator");
              List<Pod> injectors = readyPods(admin, namespace, "keywarden-injector");
              return operators.size() == 2 && injectors.size() == 2
                  ? Stream.concat(operators.stream(), injectors.stream()).toList()
                  : List.<Pod>of();
            },
            pods -> pods.size() == 4);
  }

  private static List<Pod> readyPods(KubernetesClient admin, String namespace, String name) {
    return admin
        .pods()
        .inNamespace(namespace)
        .withLabels(Map.of("app.kubernetes.io/name", name))
        .list()
        .getItems()
        .stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(ChartPodsIT::ready)
        .toList();
  }

  static boolean ready(Pod pod) {
    return pod != null
        && pod.getStatus() != null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  static Pod awaitReady(KubernetesClient admin, String namespace, String name) {
    return await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> admin.pods().inNamespace(namespace).withName(name).get(), ChartPodsIT::ready);
  }

  /** The Lease the operators elect through names one of the two operator pods. */
  static String assertLeaderIsAnOperatorPod(
      KubernetesClient admin, String namespace, List<Pod> pods) {
    Lease lease =
        await()
            .atMost(Duration.ofMinutes(1))
            .until(
                () -> admin.leases().inNamespace(namespace).withName("keywarden-operator").get(),
                l -> l != null && l.getSpec().getHolderIdentity() != null);
    String holder = lease.getSpec().getHolderIdentity();
    assertThat(
            pods.stream()
                .map(p -> p.getMetadata().getName())
                .filter(n -> n.startsWith("keywarden-operator-"))
                .filter(holder::startsWith))
        .as("Lease holder %s", holder)
        .hasSize(1);
    return holder;
  }

  /**
   * No container of these pods restarted. A restart found in CI once without a cause on record, so
   * the failure names each restarted container's last termination and its previous instance's log.
   */
  static void assertNoRestarts(KubernetesClient admin, List<Pod> pods) {
    if (restarts(pods) == 0) {
      return;
    }
    StringBuilder report = new StringBuilder("containers restarted:");
    for (Pod pod : pods) {
      String namespace = pod.getMetadata().getNamespace();
      String name = pod.getMetadata().getName();
      Pod now = admin.pods().inNamespace(namespace).withName(name).get();
      for (ContainerStatus status :
          Stream.concat(
                  now.getStatus().getContainerStatuses().stream(),
                  now.getStatus().getInitContainerStatuses().stream())
              .filter(s -> s.getRestartCount() > 0)
              .toList()) {
        ContainerStateTerminated last =
            status.getLastState() == null ? null : status.getLastState().getTerminated();
        report.append(
            String.format(
                "%n%s/%s container %s: %d restart(s), last termination: %s",
                namespace,
                name,
                status.getName(),
                status.getRestartCount(),
                last == null
                    ? "unknown"
                    : String.format(
                        "exit code %s, reason %s, message %s, %s to %s",
                        last.getExitCode(),
                        last.getReason(),
                        last.getMessage(),
                        last.getStartedAt(),
                        last.getFinishedAt())));
        try {
          report
              .append(
                  String.format(
                      "%n--- previous log of %s/%s (last 80 lines):%n", name, status.getName()))
              .append(
                  admin
                      .pods()
                      .inNamespace(namespace)
                      .withName(name)
                      .inContainer(status.getName())
                      .terminated()
                      .tailingLines(80)
                      .getLog());
        } catch (RuntimeException e) {
          report.append(String.format("%n(previous log not readable: %s)", e.getMessage()));
        }
      }
    }
    throw new AssertionError(report.toString());
  }

  static int restarts(Pod pod) {
    return restarts(List.of(pod));
  }

  static int restarts(List<Pod> pods) {
    return pods.stream()
        .flatMap(
            p ->
                Stream.concat(
                    p.getStatus().getContainerStatuses().stream(),
                    p.getStatus().getInitContainerStatuses().stream()))
        .mapToInt(ContainerStatus::getRestartCount)
        .sum();
  }
}
