package io.keywarden.testcluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Cluster networking on the node as users have it: kube-proxy (nftables mode) makes Service IPs
 * work from pods and from the host (where the apiserver calls webhooks), and CoreDNS behind the
 * kube-dns Service answers cluster names. No host aliases, no per-test addresses.
 */
@KubernetesIT(node = true)
class ClusterNetworkIT {

  private static final String PAGE = "served-by-the-echo-pod";

  @Test
  void podResolvesAndReachesAServiceByItsDnsName(
      TestCluster cluster, ClusterNode node, TestNamespace ns) throws Exception {
    KubernetesClient admin = cluster.admin();
    Service service = startEchoService(admin, node, ns);

    // Short name (search path), full name, and the kubernetes Service of the default namespace:
    // the path every in-cluster client (the operator's, the injector's) takes to the apiserver.
    String script =
        "set -e; nslookup echo.NS.svc.cluster.local; wget -q -O - http://echo/index.html;"
                .replace("NS", ns.name())
            + " nslookup kubernetes.default.svc.cluster.local;"
            // busybox's TLS cannot talk to Go servers: plain HTTP to the TLS port, which Go's
            // server answers with a 400, shows the connection through the Service.
            + " printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 10 nc -w 3 kubernetes.default 443 | head -c 12;"
            + " echo";
    admin.pods().inNamespace(ns.name()).resource(clientPod(node, "client", script)).create();

    Pod done = NodeIT.awaitFinished(admin, ns, "client");
    String logs = NodeIT.kubectlLogs(cluster, ns, "client");

    assertThat(done.getStatus().getPhase()).as(logs).isEqualTo("Succeeded");
    assertThat(logs)
        .contains("Address: " + service.getSpec().getClusterIP())
        .contains(PAGE)
        .contains("Address: 10.0.0.1")
        .contains("HTTP/1.0 400");
    // The pod asked the cluster DNS, not the machine's resolver.
    String resolvConf =
        runToEnd(cluster, admin, node, ns, "resolv", "cat /etc/resolv.conf").strip();
    assertThat(resolvConf)
        .contains("nameserver 10.0.0.10")
        .contains("search " + ns.name() + ".svc.cluster.local svc.cluster.local cluster.local");
  }

  @Test
  void hostReachesAServiceIpAsTheApiserverDoesForWebhooks(
      TestCluster cluster, ClusterNode node, TestNamespace ns) throws Exception {
    Service service = startEchoService(cluster.admin(), node, ns);

    HttpResponse<String> response = getThroughService(service);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains(PAGE);
  }

  /** A busybox httpd pod behind the Service {@code echo} (port 80 → 8080), ready to answer. */
  private static Service startEchoService(
      KubernetesClient admin, ClusterNode node, TestNamespace ns)
      throws IOException, InterruptedException {
    Pod server =
        new PodBuilder()
            .withNewMetadata()
            .withName("echo")
            .addToLabels("app", "echo")
            .endMetadata()
            .withNewSpec()
            .withTerminationGracePeriodSeconds(1L)
            .addNewContainer()
            .withName("httpd")
            .withImage(node.busyboxImage())
            .withCommand(
                "sh",
                "-c",
                "mkdir -p /tmp/www && echo "
                    + PAGE
                    + " > /tmp/www/index.html"
                    + " && exec httpd -f -p 8080 -h /tmp/www")
            .addNewPort()
            .withContainerPort(8080)
            .endPort()
            .withNewReadinessProbe()
            .withNewTcpSocket()
            .withNewPort(8080)
            .endTcpSocket()
            .withPeriodSeconds(1)
            .endReadinessProbe()
            .endContainer()
            .endSpec()
            .build();
    admin.pods().inNamespace(ns.name()).resource(server).create();
    Service service =
        admin
            .services()
            .inNamespace(ns.name())
            .resource(
                new ServiceBuilder()
                    .withNewMetadata()
                    .withName("echo")
                    .endMetadata()
                    .withNewSpec()
                    .addToSelector("app", "echo")
                    .addNewPort()
                    .withPort(80)
                    .withNewTargetPort(8080)
                    .endPort()
                    .endSpec()
                    .build())
            .create();
    admin
        .pods()
        .inNamespace(ns.name())
        .withName("echo")
        .waitUntilCondition(
            p ->
                p != null
                    && p.getStatus() != null
                    && p.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus())),
            120,
            TimeUnit.SECONDS);
    // kube-proxy programs the Service's endpoint some time after the pod is Ready (seconds on a
    // loaded machine); until then its rules reject connections. Both tests start only once the
    // Service answers, so a pod's single wget is not a race against kube-proxy.
    getThroughService(service);
    return service;
  }

  /** GET /index.html through the Service IP from the host, retrying refusals for 60 s. */
  private static HttpResponse<String> getThroughService(Service service)
      throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create("http://" + service.getSpec().getClusterIP() + "/index.html"))
            .timeout(Duration.ofSeconds(10))
            .build();
    // A refusal is retried for a while (a wrong answer is not).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
      } catch (java.net.ConnectException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }

  private static Pod clientPod(ClusterNode node, String name, String script) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withTerminationGracePeriodSeconds(1L)
        .addNewContainer()
        .withName("main")
        .withImage(node.busyboxImage())
        .withCommand("sh", "-c", script)
        .endContainer()
        .endSpec()
        .build();
  }

  private static String runToEnd(
      TestCluster cluster,
      KubernetesClient admin,
      ClusterNode node,
      TestNamespace ns,
      String name,
      String script)
      throws IOException {
    admin.pods().inNamespace(ns.name()).resource(clientPod(node, name, script)).create();
    Pod done = NodeIT.awaitFinished(admin, ns, name);
    String logs = NodeIT.kubectlLogs(cluster, ns, name);
    assertThat(done.getStatus().getPhase()).as(logs).isEqualTo("Succeeded");
    return logs;
  }
}
