package io.keywarden.testcluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The test cluster's one node ({@code test-cluster/up --node}): a kubelet registered as {@link
 * #name()}, backed by a containerd whose CRI namespace {@code k8s.io} holds the images pods can
 * run. Nothing is ever pulled: a test imports the OCI image tars it needs with {@link
 * #importImage(Path)} and uses tagged names.
 *
 * @param name the Node object's name
 * @param ip the node's InternalIP (the pod bridge's gateway; pods reach host processes there)
 * @param bridge the pods' bridge interface on the host
 * @param containerdSocket containerd's gRPC socket
 * @param ctr containerd's CLI, built with the node
 * @param busyboxImage a tagged busybox image already imported (Debian's busybox-static)
 * @param busyboxImageTar the OCI layout tar of that image
 */
public record ClusterNode(
    String name,
    String ip,
    String bridge,
    Path containerdSocket,
    Path ctr,
    String busyboxImage,
    Path busyboxImageTar) {

  /** The containerd namespace kubelet's CRI uses. */
  public static final String CRI_NAMESPACE = "k8s.io";

  public ClusterNode {
    Objects.requireNonNull(name, "NODE_NAME");
    Objects.requireNonNull(ip, "NODE_IP");
    Objects.requireNonNull(bridge, "NODE_BRIDGE");
    Objects.requireNonNull(containerdSocket, "CONTAINERD_ADDRESS");
    Objects.requireNonNull(ctr, "CTR");
    Objects.requireNonNull(busyboxImage, "BUSYBOX_IMAGE");
    Objects.requireNonNull(busyboxImageTar, "BUSYBOX_IMAGE_TAR");
  }

  /** The node described by a cluster.env of test-cluster/up, if it started one. */
  static Optional<ClusterNode> fromEnv(Map<String, String> env) {
    if (!env.containsKey("NODE_NAME")) {
      return Optional.empty();
    }
    return Optional.of(
        new ClusterNode(
            env.get("NODE_NAME"),
            required(env, "NODE_IP"),
            required(env, "NODE_BRIDGE"),
            Path.of(required(env, "CONTAINERD_ADDRESS")),
            Path.of(required(env, "CTR")),
            required(env, "BUSYBOX_IMAGE"),
            Path.of(required(env, "BUSYBOX_IMAGE_TAR"))));
  }

  private static String required(Map<String, String> env, String key) {
    String value = env.get(key);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "cluster.env names a node (NODE_NAME) but has no " + key + "; restart the test cluster");
    }
    return value;
  }

  /**
   * Imports an OCI image layout tar (index.json naming the image with the {@code
   * io.containerd.image.name} annotation) into the node's containerd, where kubelet finds it.
   * Returns the tar's output from ctr (the imported names).
   */
  public String importImage(Path ociTar) {
    if (!Files.isRegularFile(ociTar)) {
      throw new IllegalArgumentException("image tar " + ociTar + " does not exist");
    }
    return ctr(5, "images", "import", ociTar.toString());
  }

  /** Removes images from the node's CRI namespace (a test undoing its imports). */
  public void removeImages(String... names) {
    List<String> args = new java.util.ArrayList<>(List.of("images", "rm"));
    args.addAll(List.of(names));
    ctr(1, args.toArray(String[]::new));
  }

  /**
   * Kills a running container with SIGKILL through containerd, as the kernel's OOM killer or a
   * crash would end it (kubelet then restarts it by the pod's restartPolicy).
   *
   * @param containerId a container status's {@code containerID}, {@code containerd://<id>}
   */
  public void killContainer(String containerId) {
    ctr(1, "tasks", "kill", "--signal", "SIGKILL", containerId.replace("containerd://", ""));
  }

  /** The names of the images in the node's CRI namespace. */
  public List<String> images() {
    String out = ctr(1, "images", "ls", "-q");
    return out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }

  /** Runs the node's ctr against its containerd, in kubelet's CRI namespace; returns its output. */
  private String ctr(int timeoutMinutes, String... args) {
    List<String> command =
        new java.util.ArrayList<>(
            List.of(ctr.toString(), "--address", containerdSocket.toString(), "-n", CRI_NAMESPACE));
    command.addAll(List.of(args));
    return Scripts.run(command, timeoutMinutes, TimeUnit.MINUTES);
  }
}
