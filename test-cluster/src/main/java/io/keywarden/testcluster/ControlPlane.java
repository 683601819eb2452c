package io.keywarden.testcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A Kubernetes control plane that tests talk to: one started by {@code test-cluster/up} (the same
 * script people run), or a cluster named by {@code KEYWARDEN_TEST_KUBECONFIG}.
 */
public final class ControlPlane implements AutoCloseable {

  /** Use this cluster instead of starting one. */
  public static final String KUBECONFIG_ENV = "KEYWARDEN_TEST_KUBECONFIG";

  /** Attach to a control plane already started by test-cluster/up (what {@code make test} does). */
  public static final String CLUSTER_DIR_ENV = "KEYWARDEN_TEST_CLUSTER_DIR";

  /**
   * {@code 0} (or {@code false}, {@code off}): scripts/test starts no node, so a run on a machine
   * whose one node is taken still works (tests that need the node then fail, naming this).
   */
  public static final String NODE_ENV = "KEYWARDEN_TEST_NODE";

  /**
   * System property {@code fork-N} with the failsafe fork number ({@code ${surefire.forkNumber}}, N
   * from 1) of a module whose integration tests run in several forks at once. Every fork after the
   * first starts its own control plane instead of attaching to the one of {@link #CLUSTER_DIR_ENV}:
   * forks run test classes side by side, and what one class runs cluster-wide (an operator watching
   * all namespaces, say) would act on the other fork's objects.
   */
  public static final String FORK_PROPERTY = "keywarden.test.fork";

  private final Path kubeconfig;
  private final Optional<Path> stateDir;
  private final Optional<String> etcdEndpoint;
  private final Optional<Path> binDir;
  private final Optional<ClusterNode> node;
  private final boolean owned;

  private ControlPlane(
      Path kubeconfig,
      Optional<Path> stateDir,
      Optional<String> etcdEndpoint,
      Optional<Path> binDir,
      Optional<ClusterNode> node,
      boolean owned) {
    this.kubeconfig = kubeconfig;
    this.stateDir = stateDir;
    this.etcdEndpoint = etcdEndpoint;
    this.binDir = binDir;
    this.node = node;
    this.owned = owned;
  }

  /** The control plane the environment asks for, or a new local one without a node. */
  public static ControlPlane fromEnvironment() {
    return fromEnvironment(false);
  }

  /**
   * The control plane the environment asks for, or a new local one, with a node if {@code withNode}
   * (one machine runs one node: starting fails if another holds it).
   */
  public static ControlPlane fromEnvironment(boolean withNode) {
    String kubeconfig = System.getenv(KUBECONFIG_ENV);
    String dir = System.getenv(CLUSTER_DIR_ENV);
    return switch (source(fork(System.getProperty(FORK_PROPERTY)), kubeconfig, dir, withNode)) {
      case KUBECONFIG ->
          new ControlPlane(
              Path.of(kubeconfig),
              Optional.empty(),
              Optional.empty(),
              Optional.empty(),
              Optional.empty(),
              false);
      case CLUSTER_DIR -> attach(Path.of(dir), false);
      case START -> attach(startedOnce(withNode).stateDir().orElseThrow(), false);
    };
  }

  /** The control plane this JVM started for its tests, if any: stopped when the JVM exits. */
  private static ControlPlane started;

  /**
   * Starts a control plane the first time a test class asks, and hands out the same one after:
   * Failsafe with several forks runs each test class as a JUnit run of its own, so the store that
   * holds the cluster closes after every class, and only a non-owning view of this plane is closed
   * with it.
   */
  private static synchronized ControlPlane startedOnce(boolean withNode) {
    if (started == null) {
      started = start(withNode);
    }
    return started;
  }

  /** The fork number of a {@link #FORK_PROPERTY} value; 1 when there is none. */
  static int fork(String property) {
    if (property == null || property.isBlank()) {
      return 1;
    }
    if (!property.matches("fork-[1-9][0-9]*")) {
      throw new IllegalArgumentException(
          FORK_PROPERTY + " must be fork-N with the failsafe fork number N, not: " + property);
    }
    return Integer.parseInt(property.substring("fork-".length()));
  }

  /** Where a test JVM's control plane comes from. */
  enum Source {
    KUBECONFIG,
    CLUSTER_DIR,
    START
  }

  /**
   * The control plane for failsafe fork {@code fork} (from 1), given the environment's {@link
   * #KUBECONFIG_ENV} and {@link #CLUSTER_DIR_ENV} (either may be null): forks after the first start
   * their own, and fail where they cannot (one external cluster, one node per machine).
   */
  static Source source(int fork, String kubeconfig, String clusterDir, boolean withNode) {
    boolean external = kubeconfig != null && !kubeconfig.isBlank();
    if (fork > 1 && external) {
      throw new IllegalStateException(
          "failsafe fork "
              + fork
              + " needs a control plane of its own, but "
              + KUBECONFIG_ENV
              + " names one cluster for all forks: run the integration tests in one fork"
              + " (-Dkeywarden.it.forks=1)");
    }
    if (fork > 1 && withNode) {
      throw new IllegalStateException(
          "failsafe fork "
              + fork
              + " would start a second node, and a machine runs one: run the tests that need the"
              + " node in one fork");
    }
    if (external) {
      return Source.KUBECONFIG;
    }
    return clusterDir != null && !clusterDir.isBlank() && fork == 1
        ? Source.CLUSTER_DIR
        : Source.START;
  }

  /**
   * Starts a new control plane with test-cluster/up; it stops when this JVM exits, however it
   * exits.
   */
  public static ControlPlane start() {
    return start(false);
  }

  /**
   * Starts a new control plane with test-cluster/up, plus its node if {@code withNode}; both stop
   * when this JVM exits, however it exits.
   */
  public static ControlPlane start(boolean withNode) {
    Path up = RepositoryRoot.find().resolve("test-cluster/up");
    String pid = Long.toString(ProcessHandle.current().pid());
    List<String> command = new ArrayList<>(List.of(up.toString(), "--watch-pid", pid));
    if (withNode) {
      command.add("--node");
    }
    String dir = Scripts.run(command, 20, TimeUnit.MINUTES).strip();
    String[] lines = dir.split("\n");
    ControlPlane plane = attach(Path.of(lines[lines.length - 1].strip()), true);
    Runtime.getRuntime().addShutdownHook(new Thread(plane::close, "test-cluster-down"));
    return plane;
  }

  private static ControlPlane attach(Path dir, boolean owned) {
    Map<String, String> env = readEnv(dir.resolve("cluster.env"));
    return new ControlPlane(
        Path.of(env.get("KUBECONFIG")),
        Optional.of(dir),
        Optional.ofNullable(env.get("ETCD_ENDPOINT")),
        Optional.ofNullable(env.get("KEYWARDEN_BIN")).map(Path::of),
        ClusterNode.fromEnv(env),
        owned);
  }

  private static Map<String, String> readEnv(Path file) {
    Properties properties = new Properties();
    try (var reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + "; is the test cluster running?", e);
    }
    @SuppressWarnings({"unchecked", "rawtypes"})
    Map<String, String> map = (Map) properties;
    return Map.copyOf(map);
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  /** The etcd client URL, known only for a control plane of test-cluster/up. */
  public Optional<String> etcdEndpoint() {
    return etcdEndpoint;
  }

  /** The directory with the test cluster's kubectl and helm, if known. */
  public Optional<Path> binDir() {
    return binDir;
  }

  /** The node, if test-cluster/up started one ({@code --node}). */
  public Optional<ClusterNode> node() {
    return node;
  }

  public Optional<Path> stateDir() {
    return stateDir;
  }

  @Override
  public synchronized void close() {
    if (owned && stateDir.isPresent() && Files.exists(stateDir.get())) {
      Path down = RepositoryRoot.find().resolve("test-cluster/down");
      Scripts.run(List.of(down.toString(), stateDir.get().toString()), 2, TimeUnit.MINUTES);
    }
  }
}
