package io.keywarden.testcluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pods run on the test cluster's node: volumes, tokens, logs, scheduling, imported images. */
@KubernetesIT(node = true)
class NodeIT {

  private static final long POD_TIMEOUT_SECONDS = 120;

  @Test
  void busyboxPodRunsToSucceededWithEmptyDirAndProjectedToken(
      TestCluster cluster, ClusterNode node, TestNamespace ns) {
    KubernetesClient admin = cluster.admin();
    // The pod prints only the token's claims (its middle part): no usable token in any log.
    String script =
        "echo written > /scratch/file && cat /scratch/file"
            + " && cut -d. -f2 /var/run/keywarden/token";
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("busybox")
            .endMetadata()
            .withNewSpec()
            .withRestartPolicy("Never")
            .withTerminationGracePeriodSeconds(1L)
            .addNewContainer()
            .withName("main")
            .withImage(node.busyboxImage())
            .withCommand("sh", "-c", script)
            .addNewVolumeMount()
            .withName("scratch")
            .withMountPath("/scratch")
            .endVolumeMount()
            .addNewVolumeMount()
            .withName("token")
            .withMountPath("/var/run/keywarden")
            .withReadOnly(true)
            .endVolumeMount()
            .endContainer()
            .addNewVolume()
            .withName("scratch")
            .withNewEmptyDir()
            .endEmptyDir()
            .endVolume()
            .addNewVolume()
            .withName("token")
            .withNewProjected()
            .addNewSource()
            .withNewServiceAccountToken()
            .withAudience("keywarden.io")
            .withExpirationSeconds(600L)
            .withPath("token")
            .endServiceAccountToken()
            .endSource()
            .endProjected()
            .endVolume()
            .endSpec()
            .build();
    admin.pods().inNamespace(ns.name()).resource(pod).create();

    Pod done = awaitFinished(admin, ns, "busybox");

    assertThat(done.getStatus().getPhase()).isEqualTo("Succeeded");
    assertThat(done.getSpec().getNodeName()).isEqualTo(node.name());
    List<String> lines = kubectlLogs(cluster, ns, "busybox").lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).isEqualTo("written");
    @SuppressWarnings("unchecked")
    Map<String, Object> claims =
        admin
            .getKubernetesSerialization()
            .unmarshal(
                new String(Base64.getUrlDecoder().decode(lines.get(1)), StandardCharsets.UTF_8),
                Map.class);
    assertThat(claims.get("aud")).isEqualTo(List.of("keywarden.io"));
    assertThat(claims.get("sub")).isEqualTo("system:serviceaccount:" + ns.name() + ":default");
  }

  @Test
  void deploymentIsScheduledOntoTheNodeAndBecomesReady(
      TestCluster cluster, ClusterNode node, TestNamespace ns) {
    KubernetesClient admin = cluster.admin();
    Deployment deployment =
        new DeploymentBuilder()
            .withNewMetadata()
            .withName("sleeper")
            .endMetadata()
            .withNewSpec()
            .withReplicas(2)
            .withNewSelector()
            .addToMatchLabels("app", "sleeper")
            .endSelector()
            .withNewTemplate()
            .withNewMetadata()
            .addToLabels("app", "sleeper")
            .endMetadata()
            .withNewSpec()
            .withTerminationGracePeriodSeconds(1L)
            .addNewContainer()
            .withName("main")
            .withImage(node.busyboxImage())
            .withCommand("sleep", "3600")
            .endContainer()
            .endSpec()
            .endTemplate()
            .endSpec()
            .build();
    admin.apps().deployments().inNamespace(ns.name()).resource(deployment).create();

    admin
        .apps()
        .deployments()
        .inNamespace(ns.name())
        .withName("sleeper")
        .waitUntilCondition(
            d ->
                d != null
                    && d.getStatus() != null
                    && Integer.valueOf(2).equals(d.getStatus().getReadyReplicas()),
            POD_TIMEOUT_SECONDS,
            TimeUnit.SECONDS);
    List<Pod> pods =
        admin.pods().inNamespace(ns.name()).withLabel("app", "sleeper").list().getItems();
    assertThat(pods).hasSize(2);
    assertThat(pods)
        .allSatisfy(
            p -> {
              assertThat(p.getSpec().getNodeName()).isEqualTo(node.name());
              assertThat(p.getStatus().getPhase()).isEqualTo("Running");
              assertThat(p.getStatus().getPodIP()).startsWith(node.ip().replaceAll("\\.1$", "."));
            });
    // kubectl exec, like logs, goes apiserver → kubelet with the apiserver's client certificate.
    Path kubectl = cluster.controlPlane().binDir().orElseThrow().resolve("kubectl");
    String hostname =
        Scripts.run(
            List.of(
                kubectl.toString(),
                "--kubeconfig",
                cluster.controlPlane().kubeconfig().toString(),
                "-n",
                ns.name(),
                "exec",
                pods.get(0).getMetadata().getName(),
                "--",
                "hostname"),
            1,
            TimeUnit.MINUTES);
    assertThat(hostname.strip()).isEqualTo(pods.get(0).getMetadata().getName());
  }

  @Test
  void importedOciImageRunsWithoutAPull(
      TestCluster cluster, ClusterNode node, TestNamespace ns, @TempDir Path tmp)
      throws IOException {
    Path rootfs = Files.createDirectories(tmp.resolve("rootfs/bin"));
    Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
    Files.createSymbolicLink(rootfs.resolve("sh"), Path.of("busybox"));
    Files.createSymbolicLink(rootfs.resolve("echo"), Path.of("busybox"));
    String name =
        "keywarden.test/imported:"
            + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 30), 36);
    Path tar = tmp.resolve("image.tar");
    Scripts.run(
        List.of(
            RepositoryRoot.find().resolve("test-cluster/oci-image").toString(),
            "--name",
            name,
            "--entrypoint",
            "/bin/sh",
            "--out",
            tar.toString(),
            rootfs.getParent().toString()),
        1,
        TimeUnit.MINUTES);

    assertThat(node.images()).doesNotContain(name);
    node.importImage(tar);
    assertThat(node.images()).contains(name);

    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("imported")
            .endMetadata()
            .withNewSpec()
            .withRestartPolicy("Never")
            .addNewContainer()
            .withName("main")
            .withImage(name)
            .withImagePullPolicy("Never")
            .withArgs("-c", "echo from the imported image")
            .endContainer()
            .endSpec()
            .build();
    KubernetesClient admin = cluster.admin();
    admin.pods().inNamespace(ns.name()).resource(pod).create();
    assertThat(awaitFinished(admin, ns, "imported").getStatus().getPhase()).isEqualTo("Succeeded");
    assertThat(kubectlLogs(cluster, ns, "imported")).isEqualTo("from the imported image\n");
  }

  @Test
  void anImageThatWasNotImportedIsNeverPulledFromARegistry(
      TestCluster cluster, ClusterNode node, TestNamespace ns) {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("not-imported")
            .endMetadata()
            .withNewSpec()
            .withRestartPolicy("Never")
            .addNewContainer()
            .withName("main")
            .withImage("registry.example/not-imported:1")
            .endContainer()
            .endSpec()
            .build();
    KubernetesClient admin = cluster.admin();
    admin.pods().inNamespace(ns.name()).resource(pod).create();

    // containerd resolves every registry to a closed loopback port (node-up's hosts.toml).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(POD_TIMEOUT_SECONDS);
    List<String> messages = List.of();
    while (System.nanoTime() < deadline) {
      messages =
          admin
              .v1()
              .events()
              .inNamespace(ns.name())
              .withField("involvedObject.name", "not-imported")
              .list()
              .getItems()
              .stream()
              .filter(e -> "Failed".equals(e.getReason()))
              .filter(e -> e.getMessage().startsWith("Failed to pull image"))
              .map(e -> e.getMessage())
              .toList();
      if (!messages.isEmpty()) {
        break;
      }
      sleep(500);
    }
    assertThat(messages)
        .isNotEmpty()
        .allSatisfy(
            m -> assertThat(m).contains("dial tcp 127.0.0.1:9: connect: connection refused"));
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Pod awaitFinished(KubernetesClient admin, TestNamespace ns, String name) {
    return admin
        .pods()
        .inNamespace(ns.name())
        .withName(name)
        .waitUntilCondition(
            p ->
                p != null
                    && p.getStatus() != null
                    && List.of("Succeeded", "Failed").contains(p.getStatus().getPhase()),
            POD_TIMEOUT_SECONDS,
            TimeUnit.SECONDS);
  }

  /** `kubectl logs`: the apiserver proxies to kubelet with its kubelet client certificate. */
  static String kubectlLogs(TestCluster cluster, TestNamespace ns, String pod) {
    Path kubectl = cluster.controlPlane().binDir().orElseThrow().resolve("kubectl");
    return Scripts.run(
        List.of(
            kubectl.toString(),
            "--kubeconfig",
            cluster.controlPlane().kubeconfig().toString(),
            "-n",
            ns.name(),
            "logs",
            pod),
        1,
        TimeUnit.MINUTES);
  }
}
