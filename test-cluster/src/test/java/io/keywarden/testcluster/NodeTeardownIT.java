package io.keywarden.testcluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The node leaves nothing behind on the machine when it stops (processes, mounts, bridge, cgroups,
 * sysctls, kube-proxy's nftables rules), and the machine-wide lock keeps a second node out. The
 * node stopped here is this run's own one (one machine runs one node), so the test starts it again
 * afterwards, as {@code test-cluster/up --node} would.
 */
@KubernetesIT(node = true)
class NodeTeardownIT {

  private static final Path LOCK = Path.of("/run/keywarden-test-node.lock");

  @Test
  void secondNodeIsRefusedNamingTheRunningOne(TestCluster cluster) throws Exception {
    Path dir = stateDir(cluster);
    ProcessBuilder builder =
        new ProcessBuilder(RepositoryRoot.find().resolve("test-cluster/up").toString(), "--node")
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    builder.environment().put("KEYWARDEN_NODE_LOCK_WAIT", "0"); // scripts/test sets a wait
    Process up = builder.start();
    String output = new String(up.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(up.waitFor(2, TimeUnit.MINUTES)).isTrue();

    assertThat(up.exitValue()).isNotZero();
    assertThat(output)
        .contains("another test-cluster node runs on this machine")
        .contains("state dir " + dir);
  }

  @Test
  void nodeDownLeavesNothingBehind(TestCluster cluster, ClusterNode node, TestNamespace ns)
      throws IOException {
    Path dir = stateDir(cluster);
    KubernetesClient admin = cluster.admin();
    // A running pod, so that there are a shim, mounts, a veth, pod cgroups and IPAM state to undo.
    admin
        .pods()
        .inNamespace(ns.name())
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("running")
                .endMetadata()
                .withNewSpec()
                .withTerminationGracePeriodSeconds(1L)
                .addNewContainer()
                .withName("main")
                .withImage(node.busyboxImage())
                .withCommand("sleep", "3600")
                .addNewVolumeMount()
                .withName("scratch")
                .withMountPath("/scratch")
                .endVolumeMount()
                .endContainer()
                .addNewVolume()
                .withName("scratch")
                .withNewEmptyDir()
                .withMedium("Memory")
                .endEmptyDir()
                .endVolume()
                .endSpec()
                .build())
        .create();
    admin
        .pods()
        .inNamespace(ns.name())
        .withName("running")
        .waitUntilCondition(
            p -> p != null && p.getStatus() != null && "Running".equals(p.getStatus().getPhase()),
            120,
            TimeUnit.SECONDS);
    Map<String, String> before = savedSysctls(dir);
    assertThat(before).containsKeys("vm.overcommit_memory", "kernel.panic", "kernel.panic_on_oops");
    // The checks below see a running node, kube-proxy's table included.
    assertThat(leftovers(dir, node, List.of()))
        .anyMatch(l -> l.startsWith("nft table ip kube-proxy"));

    // Fixed-place directories that existed before the node (another program's) stay: only those
    // the node created count as leftovers.
    List<String> created = Files.readAllLines(dir.resolve("node/created-dirs"));
    assertThat(created).allMatch(d -> Files.exists(Path.of(d, ".keywarden-test-node")));
    try {
      Scripts.run(
          List.of(
              RepositoryRoot.find().resolve("test-cluster/node-down").toString(), dir.toString()),
          3,
          TimeUnit.MINUTES);

      assertThat(leftovers(dir, node, created)).isEmpty();
      Map<String, String> after = new LinkedHashMap<>();
      before.keySet().forEach(key -> after.put(key, sysctl(key)));
      assertThat(after).isEqualTo(before);
      assertThat(Files.readString(LOCK).strip()).isEmpty();
    } finally {
      // The rest of the run needs its node back.
      Scripts.run(
          List.of(RepositoryRoot.find().resolve("test-cluster/node-up").toString(), dir.toString()),
          5,
          TimeUnit.MINUTES);
    }
    Node back = admin.nodes().withName(node.name()).get();
    assertThat(back.getStatus().getConditions())
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    // Schedulable again: the tests after this one schedule pods onto the restarted node.
    assertThat(back.getSpec().getUnschedulable()).isNotEqualTo(Boolean.TRUE);
  }

  private static Path stateDir(TestCluster cluster) {
    return cluster
        .controlPlane()
        .stateDir()
        .orElseThrow(() -> new IllegalStateException("needs a cluster of test-cluster/up"));
  }

  /**
   * What a node holds on the machine; empty once it is gone. {@code createdDirs} are the
   * fixed-place directories the node created (node-up lists them), which must go too.
   */
  static List<String> leftovers(Path dir, ClusterNode node, List<String> createdDirs)
      throws IOException {
    List<String> found = new ArrayList<>();
    Path nodeBin = node.ctr().getParent().getParent();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        try {
          String exe = Files.readSymbolicLink(proc.resolve("exe")).toString();
          String cmdline =
              new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8)
                  .replace('\0', ' ');
          if (exe.startsWith(nodeBin.toString())
              || cmdline.contains(node.containerdSocket().toString())) {
            found.add("process " + proc.getFileName() + ": " + cmdline.strip());
          }
        } catch (IOException | SecurityException gone) {
          // exited meanwhile, or a kernel thread
        }
      }
    }
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String mountPoint = line.split(" ")[4];
      if (mountPoint.startsWith(dir + "/") || mountPoint.startsWith("/run/containerd")) {
        found.add("mount " + mountPoint);
      }
    }
    if (Files.exists(Path.of("/sys/class/net", node.bridge()))) {
      found.add("bridge " + node.bridge());
    }
    // kube-proxy's Service rules (nftables mode) and anything else naming the pods' network.
    String ruleset = Scripts.run(List.of("nft", "list", "ruleset"), 1, TimeUnit.MINUTES);
    ruleset
        .lines()
        .filter(
            line ->
                line.matches("^table \\S+ kube-proxy.*")
                    || line.contains(node.bridge())
                    || line.contains("10.244.0.")
                    || line.contains("KUBE-"))
        .forEach(line -> found.add("nft " + line.strip()));
    for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
      String[] fields = line.split(" ");
      if ((fields[2].equals("cgroup") || fields[2].equals("cgroup2"))
          && Files.exists(Path.of(fields[1], "kubepods"))) {
        found.add("cgroup " + fields[1] + "/kubepods");
      }
    }
    List<String> directories = new ArrayList<>(createdDirs);
    directories.add(dir + "/node");
    for (String path : directories) {
      if (Files.exists(Path.of(path))) {
        found.add("directory " + path);
      }
    }
    if (Files.exists(Path.of("/var/lib/kubelet/device-plugins/kubelet.sock"))) {
      found.add("socket /var/lib/kubelet/device-plugins/kubelet.sock");
    }
    Path containerLogs = Path.of("/var/log/containers");
    if (Files.isDirectory(containerLogs)) {
      try (Stream<Path> links = Files.list(containerLogs)) {
        links
            .filter(Files::isSymbolicLink)
            .filter(l -> readLink(l).startsWith(dir.toString()))
            .forEach(l -> found.add("log link " + l));
      }
    }
    return found;
  }

  private static String readLink(Path link) {
    try {
      return Files.readSymbolicLink(link).toString();
    } catch (IOException e) {
      return "";
    }
  }

  private static Map<String, String> savedSysctls(Path dir) throws IOException {
    Map<String, String> saved = new LinkedHashMap<>();
    for (String line : Files.readAllLines(dir.resolve("node/sysctls.saved"))) {
      int eq = line.indexOf('=');
      saved.put(line.substring(0, eq), line.substring(eq + 1));
    }
    return saved;
  }

  /** One read, as sysctl does: some /proc/sys files return nothing when read from an offset. */
  private static String sysctl(String key) {
    try (var in = Files.newInputStream(Path.of("/proc/sys", key.replace('.', '/')))) {
      byte[] buffer = new byte[4096];
      int n = in.read(buffer);
      return new String(buffer, 0, Math.max(n, 0), StandardCharsets.US_ASCII).strip();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
