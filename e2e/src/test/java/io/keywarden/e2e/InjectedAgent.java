package io.keywarden.e2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccountTokenProjection;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TestCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The agent container of a pod as the apiserver stored it, run as a local process the way kubelet
 * would run it, since this control plane has no kubelet. Everything comes from the stored spec; the
 * translation is only what a node would provide, and nothing else:
 *
 * <ul>
 *   <li>each volume the container mounts becomes a temporary directory, and every environment value
 *       and probe argument under a mount path is rewritten to it: an emptyDir is an empty
 *       directory, a projected ServiceAccount token is a real TokenRequest token for the pod's
 *       ServiceAccount with the projection's audience and expiry, as kubelet writes it;
 *   <li>downward API fieldRefs (metadata.namespace, metadata.name) get the pod's values;
 *   <li>the image's files: the launcher {@value #IMAGE_LAUNCHER} is agent/bin/keywarden-agent of
 *       this checkout, the image's jar is agent/target/keywarden-agent-*.jar, and the launcher
 *       finds the image's Java runtime and AppCDS archive the build made next to it
 *       (agent/target/runtime, .jsa).
 * </ul>
 *
 * Volumes the agent's configuration does not name (the Kubernetes API credentials the
 * ServiceAccount admission plugin mounts into every container) stay empty. Not reproduced: the
 * image's user (65532) and read-only root file system, and resource limits.
 */
final class InjectedAgent implements AutoCloseable {

  static final String IMAGE_LAUNCHER = "/opt/keywarden/bin/keywarden-agent";

  private final TestCluster cluster;
  private final Pod pod;
  private final Container container;
  private final Path root;
  private final Map<String, Path> mounts = new LinkedHashMap<>();
  private final Path log;
  private Process process;

  InjectedAgent(TestCluster cluster, Pod pod, String containerName, Path root) throws IOException {
    this.cluster = cluster;
    this.pod = pod;
    this.container =
        containers(pod).stream()
            .filter(c -> c.getName().equals(containerName))
            .findFirst()
            .orElseThrow(
                () -> new IllegalArgumentException("pod has no container " + containerName));
    this.root = Files.createDirectories(root);
    this.log = root.resolve("agent.log");
    for (VolumeMount mount : container.getVolumeMounts()) {
      Path dir = Files.createDirectories(root.resolve("volumes").resolve(mount.getName()));
      mounts.put(mount.getMountPath(), dir);
      if (referenced(mount.getMountPath())) {
        provide(volume(mount.getName()), dir);
      }
    }
  }

  /** The local directory of the pod volume mounted at {@code mountPath} in the agent container. */
  Path volumeAt(String mountPath) {
    return mounts.get(mountPath);
  }

  /** The command line, with the image's launcher replaced by this checkout's. */
  List<String> commandLine() {
    List<String> command = new ArrayList<>();
    List<String> entrypoint = container.getCommand();
    if (entrypoint == null || entrypoint.isEmpty() || !entrypoint.get(0).equals(IMAGE_LAUNCHER)) {
      throw new IllegalStateException(
          "the agent container should run " + IMAGE_LAUNCHER + ", not " + entrypoint);
    }
    command.add(RepositoryRoot.find().resolve("agent/bin/keywarden-agent").toString());
    entrypoint.stream().skip(1).map(this::translate).forEach(command::add);
    if (container.getArgs() != null) {
      container.getArgs().stream().map(this::translate).forEach(command::add);
    }
    return command;
  }

  /** The container's environment as the process gets it. */
  Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar variable : container.getEnv()) {
      if (variable.getValueFrom() != null) {
        env.put(variable.getName(), fieldRef(variable.getValueFrom().getFieldRef().getFieldPath()));
      } else {
        env.put(
            variable.getName(), variable.getValue() == null ? "" : translate(variable.getValue()));
      }
    }
    return env;
  }

  InjectedAgent start() throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(commandLine())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    // A container's environment, not the test JVM's: only PATH (for the launcher's sh tools) and
    // the image's jar.
    Map<String, String> env = builder.environment();
    String path = env.get("PATH");
    env.clear();
    env.put("PATH", path);
    env.put("KEYWARDEN_AGENT_JAR", agentJar().toString());
    env.putAll(environment());
    process = builder.start();
    return this;
  }

  /** Runs the container's startup probe (an exec probe) once; true when it passes. */
  boolean startupProbePasses() throws IOException, InterruptedException {
    List<String> probe =
        container.getStartupProbe().getExec().getCommand().stream().map(this::translate).toList();
    return new ProcessBuilder(probe).start().waitFor() == 0;
  }

  /** What kubelet does when it refreshes a projected token: a new one, written atomically. */
  void refreshToken() throws IOException {
    VolumeMount mount = tokenMount();
    provide(volume(mount.getName()), mounts.get(mount.getMountPath()));
  }

  /** The projected token the agent reads now (the first serviceAccountToken source). */
  String currentToken() throws IOException {
    VolumeMount mount = tokenMount();
    String path =
        volume(mount.getName()).getProjected().getSources().stream()
            .filter(source -> source.getServiceAccountToken() != null)
            .map(source -> source.getServiceAccountToken().getPath())
            .findFirst()
            .orElseThrow(() -> new IllegalStateException("the agent's volume projects no token"));
    return Files.readString(
            mounts.get(mount.getMountPath()).resolve(path), StandardCharsets.US_ASCII)
        .trim();
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  String logText() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Path log() {
    return log;
  }

  /** SIGTERM, as kubelet stops a container. */
  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private void provide(Volume volume, Path dir) throws IOException {
    if (volume.getEmptyDir() != null) {
      return;
    }
    if (volume.getProjected() != null) {
      for (VolumeProjection source : volume.getProjected().getSources()) {
        ServiceAccountTokenProjection token = source.getServiceAccountToken();
        if (token == null) {
          throw new IllegalStateException(
              "volume "
                  + volume.getName()
                  + ": only serviceAccountToken projections are provided here");
        }
        String value =
            cluster.token(
                pod.getMetadata().getNamespace(),
                pod.getSpec().getServiceAccountName(),
                token.getAudience(),
                token.getExpirationSeconds());
        Path tmp = dir.resolve(".." + token.getPath() + ".tmp");
        Files.writeString(tmp, value, StandardCharsets.US_ASCII);
        Files.move(
            tmp,
            dir.resolve(token.getPath()),
            StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      }
      return;
    }
    throw new IllegalStateException(
        "volume " + volume.getName() + " is of a kind this test does not provide");
  }

  /**
   * Whether the container's configuration names a path in this mount. The ServiceAccount admission
   * plugin also mounts the Kubernetes API credentials (kube-api-access-*) into every container; the
   * agent never reads them, so that volume stays an empty directory here.
   */
  private boolean referenced(String mountPath) {
    List<String> values = new ArrayList<>();
    container.getEnv().stream().map(EnvVar::getValue).filter(v -> v != null).forEach(values::add);
    values.addAll(container.getCommand());
    if (container.getArgs() != null) {
      values.addAll(container.getArgs());
    }
    if (container.getStartupProbe() != null && container.getStartupProbe().getExec() != null) {
      values.addAll(container.getStartupProbe().getExec().getCommand());
    }
    return values.stream()
        .map(v -> v.startsWith("file://") ? v.substring("file://".length()) : v)
        .anyMatch(v -> v.equals(mountPath) || v.startsWith(mountPath + "/"));
  }

  private VolumeMount tokenMount() {
    return container.getVolumeMounts().stream()
        .filter(m -> volume(m.getName()).getProjected() != null && referenced(m.getMountPath()))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("the agent mounts no projected token"));
  }

  private Volume volume(String name) {
    return pod.getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("pod has no volume " + name));
  }

  /**
   * An in-container path under a mount becomes the same path under the local directory; also as a
   * {@code file://} URL (AWS_TOKEN).
   */
  String translate(String value) {
    if (value.startsWith("file://")) {
      return "file://" + translate(value.substring("file://".length()));
    }
    for (Map.Entry<String, Path> mount : mounts.entrySet()) {
      String mountPath = mount.getKey();
      if (value.equals(mountPath)) {
        return mount.getValue().toString();
      }
      if (value.startsWith(mountPath + "/")) {
        return mount.getValue().resolve(value.substring(mountPath.length() + 1)).toString();
      }
    }
    return value;
  }

  private String fieldRef(String fieldPath) {
    return switch (fieldPath) {
      case "metadata.namespace" -> pod.getMetadata().getNamespace();
      case "metadata.name" -> pod.getMetadata().getName();
      default ->
          throw new IllegalStateException(
              "downward API field " + fieldPath + " is not provided here");
    };
  }

  private static Path agentJar() throws IOException {
    Path target = RepositoryRoot.find().resolve("agent/target");
    try (DirectoryStream<Path> jars = Files.newDirectoryStream(target, "keywarden-agent-*.jar")) {
      for (Path jar : jars) {
        return jar;
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // reported below
    }
    throw new IllegalStateException(
        "no agent jar in " + target + ": the e2e tests run after the agent is packaged");
  }

  private static List<Container> containers(Pod pod) {
    List<Container> all = new ArrayList<>(pod.getSpec().getInitContainers());
    all.addAll(pod.getSpec().getContainers());
    return all;
  }
}
