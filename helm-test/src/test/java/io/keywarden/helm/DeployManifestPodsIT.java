package io.keywarden.helm;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@code kubectl apply -f deploy/keywarden.yaml}, the chart rendered with its defaults into
 * keywarden-system, runs 2 operator and 2 injector pods on the test node that pass their probes,
 * with one leader. A class of its own: the manifest and a helm release share cluster-wide names.
 */
@KubernetesIT(node = true)
class DeployManifestPodsIT {

  @AfterAll
  static void removeImages(TestCluster cluster) {
    ChartImages.removeFrom(cluster.node());
  }

  @Test
  void deployManifestRunsTwoOperatorsAndTwoInjectors(TestCluster cluster, ClusterNode node)
      throws Exception {
    ChartImages.importInto(node);
    Tools tools = new Tools(cluster);
    KubernetesClient admin = cluster.admin();
    String manifest = Files.readString(Tools.ROOT.resolve("deploy/keywarden.yaml"));
    // Its webhook matches labelled pods in every namespace: no other test runs while this one does
    // (failsafe runs the classes of a module one after another), and it goes at the end.
    Instant applied = Instant.now();
    try {
      // Server-side with force: the CRDs in a shared cluster have other field managers.
      tools
          .kubectlWithInput(manifest, "apply", "--server-side", "--force-conflicts", "-f", "-")
          .orFail();
      List<Pod> pods = ChartPodsIT.awaitKeywardenReady(admin, "keywarden-system");
      System.out.printf(
          "kubectl apply -f deploy/keywarden.yaml -> 4 pods Ready: %d ms%n",
          Duration.between(applied, Instant.now()).toMillis());
      ChartPodsIT.assertLeaderIsAnOperatorPod(admin, "keywarden-system", pods);
      ChartPodsIT.assertNoRestarts(admin, pods);
    } finally {
      // Everything but the CRDs, which the other suites of the run share.
      String withoutCrds =
          Stream.of(manifest.split("(?m)^---\\s*$"))
              .filter(d -> !d.contains("kind: \"CustomResourceDefinition\""))
              .filter(d -> !d.contains("kind: CustomResourceDefinition"))
              .reduce("", (a, b) -> a + "\n---\n" + b);
      tools.kubectlWithInput(
          withoutCrds, "delete", "--ignore-not-found", "--wait=false", "-f", "-");
      // The suites after this one apply the same manifest (dry runs included) to keywarden-system:
      // a namespace still terminating refuses them, so this test ends only when it is gone.
      admin
          .namespaces()
          .withName("keywarden-system")
          .waitUntilCondition(ns -> ns == null, 180, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
