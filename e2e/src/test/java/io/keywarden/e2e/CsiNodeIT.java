package io.keywarden.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.e2e.AppLog.Line;
import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The CSI node plugin with the real kubelet: the plugin runs as a host process ({@link
 * CsiNodePlugin}), registers itself through kubelet's plugin watcher, and pods on the node mount
 * inline {@code csi.keywarden.io} volumes. The operator runs on the host ({@link HostKeywarden});
 * the plugin reaches it on 127.0.0.1 with each pod's own token.
 */
@KubernetesIT(node = true)
class CsiNodeIT {

  private static final String DRIVER = CsiNodePlugin.DRIVER;
  private static final Duration POD_START = Duration.ofSeconds(120);

  private HostKeywarden keywarden;
  private CsiNodePlugin plugin;
  private KubernetesClient admin;

  @AfterEach
  void stop() throws Exception {
    if (plugin != null) {
      plugin.close();
    }
    if (keywarden != null) {
      keywarden.close();
    }
  }

  @Test
  void podsReadTheirSecretFilesFromTheNodePluginAndAPodWithoutAccessIsToldWhy(
      TestCluster cluster, ClusterNode node, TestNamespace namespace) throws Exception {
    admin = cluster.admin();
    String ns = namespace.name();
    keywarden = new HostKeywarden(cluster, ns, node.ip());
    String apiCa = keywarden.awaitPublishedApiCa();
    keywarden.serviceAccount(ns, "stranger");
    keywarden.dbTenant(ns);
    ValueApi api = new ValueApi(keywarden.hostApiUrl(), apiCa);
    String writer = cluster.token(ns, "writer", "keywarden.io", 3600);

    // (1) kubelet registered the driver through its plugin watcher.
    plugin = CsiNodePlugin.start(cluster, node, keywarden.hostApiUrl(), apiCa);

    // (2) A pod with an inline volume reads its files at start, then the rotated value.
    admin.pods().inNamespace(ns).resource(pod("web", "app", node.busyboxImage())).create();
    awaitRunning(ns, "web");
    AppLog app = new AppLog(admin, ns, "web", "app");
    String password = jsonField(api.get(writer, ns, "db"), "password");
    Line first = app.await("STATE", l -> true, Duration.ofSeconds(30));
    assertThat(first.fields()[1]).isEqualTo(password);
    assertThat(first.fields()[2]).isEqualTo("USERNAME='orders'");
    // The shipped CSIDriver (serviceAccountTokenInSecrets) has kubelet hand the pod's token in
    // NodePublishVolume's secrets, which the CSI spec keeps out of logs, not in the volume context.
    assertThat(plugin.log())
        .containsPattern(
            "published volume \\S+ of pod " + ns + "/web: .*\\(token in the secrets\\)")
        .doesNotContain("(token in the volume context)");

    String put = "put-" + UUID.randomUUID().toString().replace("-", "");
    Instant beforePut = Instant.now();
    api.put(writer, ns, "db", "{\"username\":\"orders\",\"password\":\"" + put + "\"}");
    Line afterPut = app.await("STATE", l -> l.fields()[1].equals(put), Duration.ofSeconds(30));
    System.out.printf(
        "csi: put -> app read the new file: %d ms%n",
        Duration.between(beforePut, afterPut.time()).toMillis());

    // (3) The plugin stops and starts again (an upgrade, a crash): the running pod keeps its last
    // files, and the new process resumes the volume from its state directory before it serves,
    // without waiting for kubelet's republish (about a minute).
    assertThat(plugin.stop(Duration.ofSeconds(30))).as("the plugin ends on SIGTERM").isTrue();
    String duringRestart = "restart-" + UUID.randomUUID().toString().replace("-", "");
    api.put(writer, ns, "db", "{\"username\":\"orders\",\"password\":\"" + duringRestart + "\"}");
    Thread.sleep(2000);
    // One read of the log: two reads can see two lengths while the app writes.
    List<Line> states = app.lines("STATE");
    assertThat(states.get(states.size() - 1).fields()[1])
        .as("no plugin, no change: the last files stay")
        .isEqualTo(put);
    Instant restarted = Instant.now();
    plugin.start();
    Line afterRestart =
        app.await("STATE", l -> l.fields()[1].equals(duringRestart), Duration.ofSeconds(20));
    System.out.printf(
        "csi: plugin restart -> the pod's file followed the secret again: %d ms%n",
        Duration.between(restarted, afterRestart.time()).toMillis());
    assertThat(plugin.log()).contains("resumed volume ").contains("for pod " + ns + "/web");
    String afterResume = "after-" + UUID.randomUUID().toString().replace("-", "");
    api.put(writer, ns, "db", "{\"username\":\"orders\",\"password\":\"" + afterResume + "\"}");
    app.await("STATE", l -> l.fields()[1].equals(afterResume), Duration.ofSeconds(30));
    // The resumed watch needed no kubelet; new pods need the new process registered with kubelet.
    plugin.awaitRegistered();

    // (4) A pod whose ServiceAccount has no access gets no files, and its events say why.
    admin.pods().inNamespace(ns).resource(pod("nosy", "stranger", node.busyboxImage())).create();
    Event refused =
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(500))
            .until(
                () ->
                    admin.v1().events().inNamespace(ns).list().getItems().stream()
                        .filter(e -> "nosy".equals(e.getInvolvedObject().getName()))
                        .filter(e -> "FailedMount".equals(e.getReason()))
                        // kubelet's own, should it see the pod before the new registration
                        .filter(
                            e -> !e.getMessage().contains("not found in the list of registered"))
                        .findFirst()
                        .orElse(null),
                e -> e != null);
    System.out.println("csi: refused pod's event: " + refused.getMessage());
    assertThat(refused.getMessage())
        .contains("PermissionDenied")
        .contains("pod " + ns + "/nosy (ServiceAccount stranger) may not read secret db");
    assertThat(admin.pods().inNamespace(ns).withName("nosy").get().getStatus().getPhase())
        .isEqualTo("Pending");

    // (5) Deleting the pods unmounts their volumes.
    String uid = admin.pods().inNamespace(ns).withName("web").get().getMetadata().getUid();
    admin.pods().inNamespace(ns).withName("web").withGracePeriod(0).delete();
    admin.pods().inNamespace(ns).withName("nosy").withGracePeriod(0).delete();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> !Files.readString(Path.of("/proc/self/mountinfo")).contains(uid));
    // The plugin logs the unpublish after the unmount (and after dropping its state entry), so the
    // line can trail the mount table by a moment.
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> plugin.log().contains("unpublished volume"));
    assertThat(plugin.log()).contains("unpublished volume").doesNotContain(put);
  }

  /** busybox printing what it reads from the volume, five times a second. */
  private static Pod pod(String name, String serviceAccount, String image) {
    String script =
        "while true; do echo STATE $(cat /secrets/password) $(head -n1 /secrets/db.env); sleep 0.2; done";
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName(serviceAccount)
        .withTerminationGracePeriodSeconds(1L)
        .addNewContainer()
        .withName("app")
        .withImage(image)
        .withCommand("sh", "-c", script)
        .addNewVolumeMount()
        .withName("secrets")
        .withMountPath("/secrets")
        .withReadOnly(true)
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("secrets")
        .withNewCsi()
        .withDriver(DRIVER)
        .withReadOnly(true)
        .withVolumeAttributes(
            Map.of(
                "secret.password", "db",
                "key.password", "password",
                "secret.db.env", "db",
                "format.db.env", "env",
                "file-mode", "0444"))
        .endCsi()
        .endVolume()
        .endSpec()
        .build();
  }

  private void awaitRunning(String ns, String name) throws Exception {
    await()
        .atMost(POD_START)
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              Pod pod = admin.pods().inNamespace(ns).withName(name).get();
              return pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
            });
  }

  private static String jsonField(String json, String field) throws Exception {
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get(field).asText();
  }
}
