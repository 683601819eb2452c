package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.storage.CSINode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The CSI node plugin as the chart runs it: {@code helm install} with {@code csi.enabled=true} on
 * the test node, from the images {@code make images} builds. The plugin is a privileged DaemonSet
 * pod that registers itself with kubelet (no node-driver-registrar); the apps mount the inline
 * volume of {@code examples/pod-csi.yaml} directly (no webhook: the injector is off here) and the
 * plugin reads their secret with each pod's own token from the operator pod, by its Service name.
 *
 * <p>The node's kubelet root is not {@code /var/lib/kubelet}: {@code csi.kubeletDir} points the
 * DaemonSet at it, and {@code csi.stateDir} keeps the token files inside the node's directory.
 */
@KubernetesIT(node = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartCsiPodsIT {

  private static final String DRIVER = "csi.keywarden.io";
  private static final String RUN =
      Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
  private static final String SYSTEM = "kw-csi-" + RUN;
  private static final String APPS = SYSTEM + "-apps";
  private static final List<String> APPS_PODS = List.of("orders-csi-1", "orders-csi-2");
  // A node label no node has: the DaemonSet with it in its nodeSelector leaves the node.
  private static final String NO_PLUGIN = "keywarden.io/test-no-plugin";
  // A restarted plugin resumes every volume from its state directory before it serves, so a
  // rotation made once it is Ready reaches the apps in seconds. Waiting for kubelet's republish
  // instead (its periodic pod sync) took 71-80 s on this node: the bound is well under that.
  private static final Duration RESUMED = Duration.ofSeconds(20);

  private static Tools tools;
  private static Release release;
  private static Path stateDir;
  private static Path kubeletDir;

  @BeforeAll
  static void install(TestCluster cluster) throws Exception {
    ClusterNode node = cluster.node();
    ChartImages.importInto(node);
    tools = new Tools(cluster);
    KubernetesClient admin = cluster.admin();
    Release.createNamespaces(admin, SYSTEM, APPS);
    // The node's kubelet runs with --root-dir <state>/node/kubelet, beside containerd's socket.
    Path nodeDir = node.containerdSocket().getParent();
    stateDir = nodeDir.resolve("keywarden-csi-" + RUN);
    kubeletDir = nodeDir.resolve("kubelet");
    Instant installed = Instant.now();
    release =
        Release.install(
            tools,
            SYSTEM,
            "--set",
            "csi.enabled=true",
            "--set",
            "csi.kubeletDir=" + kubeletDir,
            "--set",
            "csi.stateDir=" + stateDir,
            // One operator, no injector: the apps mount the volume themselves.
            "--set",
            "injector.enabled=false",
            "--set",
            "operator.replicas=1");
    awaitPlugin(admin, p -> true);
    System.out.printf(
        "helm install (csi.enabled) -> plugin pod Ready: %d ms%n",
        Duration.between(installed, Instant.now()).toMillis());
    System.out.printf(
        "helm install's stderr (the apiserver's warnings): '%s'%n",
        release.installed().stderr().strip());
  }

  @AfterAll
  static void uninstall(TestCluster cluster) {
    KubernetesClient admin = cluster.admin();
    try {
      if (tools != null) {
        admin.pods().inNamespace(APPS).withGracePeriod(1).delete();
        tools.kubectl("delete", "-n", APPS, "managedsecrets", "--all", "--wait=true");
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
  void pluginPodIsReadyPrivilegedAndRegisteredWithKubelet(TestCluster cluster, ClusterNode node) {
    KubernetesClient admin = cluster.admin();
    Pod plugin = awaitPlugin(admin, p -> true);

    assertThat(plugin.getSpec().getContainers()).hasSize(1);
    assertThat(plugin.getSpec().getContainers().get(0).getImage()).isEqualTo(ChartImages.CSI);
    assertThat(plugin.getSpec().getContainers().get(0).getSecurityContext().getPrivileged())
        .isTrue();
    assertThat(plugin.getSpec().getAutomountServiceAccountToken()).isFalse();
    assertThat(plugin.getSpec().getVolumes())
        .as("no token of its own")
        .noneMatch(v -> v.getProjected() != null);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              CSINode csiNode = admin.storage().v1().csiNodes().withName(node.name()).get();
              return csiNode != null
                  && csiNode.getSpec().getDrivers() != null
                  && csiNode.getSpec().getDrivers().stream()
                      .anyMatch(d -> d.getName().equals(DRIVER));
            });
    assertThat(admin.storage().v1().csiDrivers().withName(DRIVER).get().getSpec())
        .satisfies(spec -> assertThat(spec.getRequiresRepublish()).isTrue())
        .satisfies(spec -> assertThat(spec.getVolumeLifecycleModes()).containsExactly("Ephemeral"));
    // kubelet hands the pods' tokens in NodePublishVolume's secrets, and the apiserver, which
    // warns about a tokenRequests driver without that, said nothing to helm.
    assertThat(
            tools
                .kubectl(
                    "get",
                    "csidriver",
                    DRIVER,
                    "-o",
                    "jsonpath={.spec.serviceAccountTokenInSecrets}")
                .orFail())
        .isEqualTo("true");
    assertThat(release.installed().stderr()).doesNotContain("serviceAccountTokenInSecrets");
  }

  @Test
  @Order(2)
  void appsGetTheirFilesBeforeTheyStartAndReadARotation(TestCluster cluster, ClusterNode node)
      throws Exception {
    KubernetesClient admin = cluster.admin();
    tools
        .kubectl(
            "apply",
            "-n",
            APPS,
            "-f",
            Tools.ROOT.resolve("examples/managedsecret-generated.yaml").toString())
        .orFail();
    tools
        .kubectl(
            "wait",
            "-n",
            APPS,
            "managedsecret/db-credentials",
            "--for=condition=Ready",
            "--timeout=120s")
        .orFail();
    for (String name : APPS_PODS) {
      Instant created = Instant.now();
      createApp(node, name);
      Pod app = ChartPodsIT.awaitReady(admin, APPS, name);
      System.out.printf(
          "%s: create -> Ready with the CSI volume: %d ms%n",
          name, Duration.between(created, Instant.now()).toMillis());
      assertThat(app.getSpec().getContainers()).as("nothing injected").hasSize(1);
    }
    assertThat(pluginLog(awaitPlugin(admin, p -> true).getMetadata().getName()))
        .as("kubelet sent each pod's token in the secrets, not in the volume context")
        .containsPattern(
            "published volume \\S+ of pod " + APPS + "/orders-csi-1: .*\\(token in the secrets\\)")
        .containsPattern(
            "published volume \\S+ of pod " + APPS + "/orders-csi-2: .*\\(token in the secrets\\)")
        .doesNotContain("(token in the volume context)");

    String first = null;
    for (String name : APPS_PODS) {
      ChartPodsIT.Secret files = read(name);
      assertThat(files.password()).hasSize(32);
      first = first == null ? files.password() : first;
      assertThat(files.password()).isEqualTo(first);
      // The app's first line is the file it found at its start: the volume was there before it.
      assertThat(tools.kubectl("logs", "-n", APPS, name).orFail().lines().findFirst())
          .contains("db-password is " + first);
    }

    Instant requested = Instant.now();
    rotate("csi-" + RUN + "-1");
    awaitAllRead(first, Duration.ofSeconds(90));
    System.out.printf(
        "rotate-now -> both apps read the new value: %d ms%n",
        Duration.between(requested, Instant.now()).toMillis());
    for (String name : APPS_PODS) {
      assertThat(ChartPodsIT.restarts(admin.pods().inNamespace(APPS).withName(name).get()))
          .isZero();
    }
  }

  /**
   * The plugin's container is killed with SIGKILL (kubelet restarts it in the same pod), then its
   * pod is deleted (the DaemonSet makes a new one). Meanwhile the apps' files stay; each new
   * process resumes the running pods' volumes from its state directory before it serves, so a
   * rotation made as soon as it is Ready reaches both apps in seconds, without waiting for kubelet
   * to republish the volumes.
   */
  @Test
  @Order(3)
  void pluginKilledOrDeletedComesBackAndEveryPodKeepsRefreshing(
      TestCluster cluster, ClusterNode node) throws Exception {
    KubernetesClient admin = cluster.admin();
    Pod plugin = awaitPlugin(admin, p -> true);
    String name = plugin.getMetadata().getName();
    int restarts = ChartPodsIT.restarts(plugin);
    String containerId = plugin.getStatus().getContainerStatuses().get(0).getContainerID();

    Instant killed = Instant.now();
    node.killContainer(containerId);
    for (String app : APPS_PODS) {
      assertThat(read(app).password()).as("files stay while the plugin is away").isNotEmpty();
    }
    Pod back =
        awaitPlugin(
            admin,
            p -> p.getMetadata().getName().equals(name) && ChartPodsIT.restarts(p) == restarts + 1);
    System.out.printf(
        "plugin container killed (SIGKILL) -> restarted and Ready: %d ms%n",
        Duration.between(killed, Instant.now()).toMillis());
    assertThat(
            back.getStatus()
                .getContainerStatuses()
                .get(0)
                .getLastState()
                .getTerminated()
                .getExitCode())
        .isEqualTo(137);
    rotateAndAwaitResumed("killed");
    assertResumedEveryApp(name);

    Instant deleted = Instant.now();
    admin.pods().inNamespace(SYSTEM).withName(name).delete();
    Pod replacement = awaitPlugin(admin, p -> !p.getMetadata().getName().equals(name));
    System.out.printf(
        "plugin pod deleted -> the DaemonSet's new pod Ready: %d ms%n",
        Duration.between(deleted, Instant.now()).toMillis());
    rotateAndAwaitResumed("deleted");
    assertResumedEveryApp(replacement.getMetadata().getName());
    for (String app : APPS_PODS) {
      assertThat(ChartPodsIT.restarts(admin.pods().inNamespace(APPS).withName(app).get())).isZero();
    }
  }

  /**
   * A pod deleted while the node has no plugin (the DaemonSet kept off the node) keeps its mount,
   * as kubelet cannot unpublish it; once the plugin is back, nothing of it is left mounted or
   * recorded, and the apps still running follow the next rotation.
   */
  @Test
  @Order(4)
  void aPodDeletedWhileThePluginIsAwayLeavesNoMountOnceItIsBack(
      TestCluster cluster, ClusterNode node) throws Exception {
    KubernetesClient admin = cluster.admin();
    String gone = "orders-csi-gone";
    createApp(node, gone);
    ChartPodsIT.awaitReady(admin, APPS, gone);
    String uid = admin.pods().inNamespace(APPS).withName(gone).get().getMetadata().getUid();
    // kubelet's target for the inline volume "secrets" of examples/pod-csi.yaml.
    Path target =
        kubeletDir.resolve("pods").resolve(uid).resolve("volumes/kubernetes.io~csi/secrets/mount");
    assertThat(hostMountPoints()).as("the node's mountinfo").contains(target.toString());
    assertThat(recordsNaming(uid)).as("the plugin's record of the volume").isNotEmpty();

    pluginNodeSelector("\"true\"");
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> pluginPods(admin).isEmpty());
    admin.pods().inNamespace(APPS).withName(gone).withGracePeriod(1).delete();
    Thread.sleep(5000);
    assertThat(admin.pods().inNamespace(APPS).withName(gone).get())
        .as("Terminating: kubelet cannot unpublish without the plugin")
        .isNotNull();
    assertThat(hostMountPoints())
        .as("still mounted without the plugin")
        .contains(target.toString());

    Instant back = Instant.now();
    pluginNodeSelector("null");
    Pod plugin = awaitPlugin(admin, p -> true);
    System.out.printf(
        "plugin back on the node -> Ready: %d ms%n",
        Duration.between(back, Instant.now()).toMillis());
    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              assertThat(hostMountPoints())
                  .as("the node's mountinfo")
                  .doesNotContain(target.toString());
              assertThat(recordsNaming(uid)).as("the plugin's records").isEmpty();
              assertThat(admin.pods().inNamespace(APPS).withName(gone).get()).isNull();
            });
    System.out.printf(
        "plugin back -> the deleted pod's volume unmounted, its record gone, the pod deleted: %d ms%n",
        Duration.between(back, Instant.now()).toMillis());
    assertThat(pluginLog(plugin.getMetadata().getName()))
        .contains("unpublished volume")
        .contains(target.toString());
    rotateAndAwaitResumed("back");
  }

  @Test
  @Order(5)
  void deletingTheAppsLeavesNothingMountedAndNoTokenOnTheNode(TestCluster cluster)
      throws Exception {
    KubernetesClient admin = cluster.admin();
    List<String> uids =
        APPS_PODS.stream()
            .map(n -> admin.pods().inNamespace(APPS).withName(n).get().getMetadata().getUid())
            .toList();
    assertThat(hostMounts()).as("mounted while the apps run").contains(uids.get(0), uids.get(1));

    for (String name : APPS_PODS) {
      admin.pods().inNamespace(APPS).withName(name).delete();
    }
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              String mounts = hostMounts();
              for (String uid : uids) {
                assertThat(mounts).as("the node's /proc/mounts").doesNotContain(uid);
              }
            });
    Path volumes = stateDir.resolve("volumes");
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> !Files.exists(volumes) || isEmpty(volumes));
    assertThat(pluginLog(awaitPlugin(admin, p -> true).getMetadata().getName()))
        .contains("unpublished volume");
  }

  /** A pod of {@code examples/pod-csi.yaml} named {@code name}, with the node's busybox. */
  private static void createApp(ClusterNode node, String name) throws java.io.IOException {
    String example =
        Files.readString(Tools.ROOT.resolve("examples/pod-csi.yaml"))
            .replace("image: busybox:1.37", "image: " + node.busyboxImage());
    assertThat(example).contains(node.busyboxImage());
    tools
        .kubectlWithInput(
            example.replace("name: orders-csi\n", "name: " + name + "\n"),
            "apply",
            "-n",
            APPS,
            "-f",
            "-")
        .orFail();
  }

  /**
   * A rotation made right after the plugin came back (Ready) reaches every app within {@link
   * #RESUMED}: the new process resumed their watches without kubelet.
   */
  private static void rotateAndAwaitResumed(String what) {
    String before = read(APPS_PODS.get(0)).password();
    Instant requested = Instant.now();
    rotate("csi-" + RUN + "-" + what);
    awaitAllRead(before, RESUMED);
    System.out.printf(
        "plugin %s, Ready again -> rotate-now -> both apps read it: %d ms%n",
        what, Duration.between(requested, Instant.now()).toMillis());
  }

  /** The plugin's log says it resumed each app's volume itself, and took none over from kubelet. */
  private static void assertResumedEveryApp(String plugin) {
    String log = pluginLog(plugin);
    for (String app : APPS_PODS) {
      assertThat(log).contains("for pod " + APPS + "/" + app).contains("resumed volume ");
    }
    assertThat(log)
        .as("no volume waited for kubelet's republish")
        .doesNotContain("took over volume");
  }

  /** The plugin's records (volume.json) that name {@code podUid}. */
  private static List<Path> recordsNaming(String podUid) throws java.io.IOException {
    Path volumes = stateDir.resolve("volumes");
    if (!Files.isDirectory(volumes)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(volumes)) {
      return files
          .filter(f -> f.getFileName().toString().equals("volume.json"))
          .filter(
              f -> {
                try {
                  return Files.readString(f).contains("\"" + podUid + "\"");
                } catch (java.io.IOException e) {
                  return false; // deleted meanwhile
                }
              })
          .toList();
    }
  }

  /** The mount points of the node, from the host's /proc/self/mountinfo (field 5). */
  private static List<String> hostMountPoints() throws java.io.IOException {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .map(line -> line.split(" ")[4])
        .toList();
  }

  /** Each app container's two files, as it reads them, of one version. */
  private static ChartPodsIT.Secret read(String pod) {
    return ChartPodsIT.readOneVersion(tools, APPS, pod);
  }

  /** Waits until every app reads a password other than {@code before}, the same in all. */
  private static void awaitAllRead(String before, Duration atMost) {
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> APPS_PODS.stream().map(p -> read(p).password()).distinct().toList(),
            seen -> seen.size() == 1 && !seen.get(0).equals(before));
  }

  private static void rotate(String request) {
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

  /**
   * Sets the DaemonSet's {@link #NO_PLUGIN} node selector to the JSON {@code value}: {@code "true"}
   * takes the plugin off the node, {@code null} brings it back.
   */
  private static void pluginNodeSelector(String value) {
    tools
        .kubectl(
            "patch",
            "-n",
            SYSTEM,
            "daemonset",
            "keywarden-csi",
            "--type=merge",
            "-p",
            "{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\""
                + NO_PLUGIN
                + "\":"
                + value
                + "}}}}}")
        .orFail();
  }

  /** The plugin's pods, whatever their state. */
  private static List<Pod> pluginPods(KubernetesClient admin) {
    return admin
        .pods()
        .inNamespace(SYSTEM)
        .withLabels(Map.of("app.kubernetes.io/name", "keywarden-csi"))
        .list()
        .getItems();
  }

  /** The Ready plugin pod that {@code wanted} accepts (one node, so one pod). */
  private static Pod awaitPlugin(KubernetesClient admin, java.util.function.Predicate<Pod> wanted) {
    return await()
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                admin
                    .pods()
                    .inNamespace(SYSTEM)
                    .withLabels(Map.of("app.kubernetes.io/name", "keywarden-csi"))
                    .list()
                    .getItems()
                    .stream()
                    .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                    .filter(ChartPodsIT::ready)
                    .filter(wanted)
                    .findFirst()
                    .orElse(null),
            p -> p != null);
  }

  private static String pluginLog(String pod) {
    return tools.kubectl("logs", "-n", SYSTEM, pod, "-c", "csi").orFail();
  }

  private static String hostMounts() throws java.io.IOException {
    return Files.readString(Path.of("/proc/mounts"));
  }

  private static boolean isEmpty(Path dir) throws java.io.IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }
}
