package io.keywarden.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.testcluster.ControlPlane;
import io.keywarden.testcluster.RepositoryRoot;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The set-up of the at-scale load tests: a control plane (started unless KEYWARDEN_TEST_CLUSTER_DIR
 * or KEYWARDEN_TEST_KUBECONFIG names one), the CRDs, a namespace for the operator and one for the
 * bench's ManagedSecrets, and the operator process reconciling only the latter. Closing stops the
 * operator and removes its namespace; the secrets' namespace is the benchmark's to clean up.
 */
final class OperatorSession implements AutoCloseable {

  final ControlPlane plane;
  final KubernetesClient client;
  final String operatorNs;
  final String secretsNs;
  final Process operator;

  /** The operator's plain HTTP port: /q/health, /q/metrics. */
  final int httpPort;

  private OperatorSession(
      ControlPlane plane,
      KubernetesClient client,
      String operatorNs,
      String secretsNs,
      Process operator,
      int httpPort) {
    this.plane = plane;
    this.client = client;
    this.operatorNs = operatorNs;
    this.secretsNs = secretsNs;
    this.operator = operator;
    this.httpPort = httpPort;
  }

  /**
   * {@code name} names the operator's log, bench/target/&lt;name&gt;-operator-&lt;suffix&gt;.log.
   */
  static OperatorSession start(String name, Map<String, String> operatorEnv) throws Exception {
    Path root = RepositoryRoot.find();
    ControlPlane plane = ControlPlane.fromEnvironment();
    String suffix = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
    String operatorNs = "kw-bench-op-" + suffix;
    String secretsNs = "kw-bench-" + suffix;
    KubernetesClient client = Bench.client(plane);
    try {
      System.out.printf(
          "control plane: kube-apiserver %s at %s%n",
          client.getKubernetesVersion().getGitVersion(), client.getMasterUrl());
      Bench.installCrds(client, root);
      for (String ns : List.of(operatorNs, secretsNs)) {
        Bench.createNamespace(client, ns);
      }
      Path log = root.resolve("bench/target/" + name + "-operator-" + suffix + ".log");
      // BENCH_OPERATOR_JAR: another build (say, main's) to compare with, back to back.
      Path jar =
          Optional.ofNullable(System.getenv("BENCH_OPERATOR_JAR"))
              .map(Path::of)
              .orElse(root.resolve("operator/target/quarkus-app/quarkus-run.jar"));
      Instant launched = Instant.now();
      Map<String, String> env = new HashMap<>(operatorEnv);
      // Leave others' ManagedSecrets alone on a shared cluster.
      env.put("QUARKUS_OPERATOR_SDK_NAMESPACES", secretsNs);
      // Another operator on the machine may hold the API's default port 8443.
      env.putIfAbsent("KEYWARDEN_API_PORT", Integer.toString(Bench.freePort()));
      // The JVM flags of the integration tests' QuarkusProcess, so that RSS figures compare;
      // BENCH_OPERATOR_JVM replaces them (heap and collector experiments; as in ApiLoad).
      List<String> jvmFlags = jvmFlags(System.getenv("BENCH_OPERATOR_JVM"));
      int httpPort = Bench.freePort();
      Process operator =
          Bench.startOperator(jar, plane.kubeconfig(), operatorNs, log, jvmFlags, env, httpPort);
      // Also on Ctrl-C or a crash: an orphaned operator would keep reconciling the shared cluster.
      Runtime.getRuntime().addShutdownHook(new Thread(operator::destroyForcibly, "stop-operator"));
      System.out.printf(
          "operator: %s %s, pid %d ready in %d ms (log %s), RSS %s%n",
          String.join(" ", jvmFlags),
          jar,
          operator.pid(),
          Duration.between(launched, Instant.now()).toMillis(),
          log,
          Bench.rssMiB(operator.pid()));
      return new OperatorSession(plane, client, operatorNs, secretsNs, operator, httpPort);
    } catch (Exception e) {
      client.namespaces().withName(operatorNs).delete();
      client.close();
      throw e;
    }
  }

  static final List<String> DEFAULT_JVM_FLAGS = List.of("-XX:+UseSerialGC", "-Xmx256m");

  static List<String> jvmFlags(String override) {
    return override == null || override.isBlank()
        ? DEFAULT_JVM_FLAGS
        : List.of(override.trim().split("\\s+"));
  }

  /** The control plane's processes (etcd, apiserver, ...) when this run started it; else empty. */
  List<Long> controlPlanePids() {
    return Bench.controlPlanePids(plane);
  }

  @Override
  public void close() throws InterruptedException {
    try {
      Bench.stop(operator);
      client.namespaces().withName(operatorNs).delete();
    } finally {
      client.close();
    }
  }
}
