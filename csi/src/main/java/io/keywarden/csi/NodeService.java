package io.keywarden.csi;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import io.keywarden.agent.ApiException;
import io.keywarden.agent.Log;
import io.keywarden.csi.spec.NodeGetCapabilitiesRequest;
import io.keywarden.csi.spec.NodeGetCapabilitiesResponse;
import io.keywarden.csi.spec.NodeGetInfoRequest;
import io.keywarden.csi.spec.NodeGetInfoResponse;
import io.keywarden.csi.spec.NodeGrpc;
import io.keywarden.csi.spec.NodePublishVolumeRequest;
import io.keywarden.csi.spec.NodePublishVolumeResponse;
import io.keywarden.csi.spec.NodeUnpublishVolumeRequest;
import io.keywarden.csi.spec.NodeUnpublishVolumeResponse;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The CSI Node service for ephemeral inline volumes. NodePublishVolume mounts a tmpfs at the
 * target, writes the files with the pod's token and then keeps them fresh; kubelet calls it again
 * on every republish ({@code requiresRepublish}), which hands over a fresh token.
 * NodeUnpublishVolume stops the watch and unmounts.
 *
 * <p>Every publish is recorded in the state directory ({@link StateDir}), so that a restarted
 * plugin resumes each volume's watch at once ({@link #resume()}) instead of at kubelet's next
 * republish, about a minute later. A publish for a target that is already a mount point while the
 * plugin knows no such volume (a record it could not use, a plugin that did not record) takes the
 * volume over: same mount, files rewritten, watch started again.
 *
 * <p>Errors reach the pod's events through kubelet ({@code MountVolume.SetUp failed ...}), so their
 * messages name the pod, the secret and the fix, and never a token or value. Calls for one volume
 * are serialized; kubelet does not call concurrently for the same volume anyway.
 */
final class NodeService extends NodeGrpc.NodeImplBase {

  private final PluginOptions options;
  private final Tmpfs tmpfs;
  private final StateDir state;
  private final PrintStream err;
  private final Log log;
  private final Map<String, PublishedVolume> volumes = new HashMap<>();

  NodeService(PluginOptions options, Tmpfs tmpfs, PrintStream err) {
    this.options = options;
    this.tmpfs = tmpfs;
    this.state = new StateDir(options.stateDir());
    this.err = err;
    this.log = new Log(err);
  }

  @Override
  public void nodeGetCapabilities(
      NodeGetCapabilitiesRequest request, StreamObserver<NodeGetCapabilitiesResponse> response) {
    // No STAGE_UNSTAGE_VOLUME: ephemeral volumes are only published.
    response.onNext(NodeGetCapabilitiesResponse.getDefaultInstance());
    response.onCompleted();
  }

  @Override
  public void nodeGetInfo(
      NodeGetInfoRequest request, StreamObserver<NodeGetInfoResponse> response) {
    response.onNext(NodeGetInfoResponse.newBuilder().setNodeId(options.nodeId()).build());
    response.onCompleted();
  }

  @Override
  public void nodePublishVolume(
      NodePublishVolumeRequest request, StreamObserver<NodePublishVolumeResponse> response) {
    try {
      publish(request);
      response.onNext(NodePublishVolumeResponse.getDefaultInstance());
      response.onCompleted();
    } catch (StatusException e) {
      response.onError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      response.onError(Status.ABORTED.withDescription("the plugin is stopping").asException());
    }
  }

  @Override
  public void nodeUnpublishVolume(
      NodeUnpublishVolumeRequest request, StreamObserver<NodeUnpublishVolumeResponse> response) {
    try {
      unpublish(volumeId(request.getVolumeId()), targetPath(request.getTargetPath()));
      response.onNext(NodeUnpublishVolumeResponse.getDefaultInstance());
      response.onCompleted();
    } catch (StatusException e) {
      response.onError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      response.onError(Status.ABORTED.withDescription("the plugin is stopping").asException());
    }
  }

  /** Stops every watch (the plugin is stopping); mounts and files stay for the next start. */
  synchronized void stopAll() throws InterruptedException {
    for (PublishedVolume volume : volumes.values()) {
      volume.close();
    }
    volumes.clear();
  }

  /**
   * Resumes the watch of every recorded volume whose tmpfs is still mounted, with its recorded
   * token, without waiting for kubelet: called once at start, before the plugin serves. A record
   * whose mount is gone (the node rebooted, the pod went) is forgotten; a mount whose pod's
   * directory is gone is unmounted (only the plugin's own tmpfs, only under kubelet's pods
   * directory); a volume whose token has expired keeps its files until kubelet republishes it.
   */
  synchronized void resume() throws IOException, InterruptedException {
    Instant now = Instant.now();
    for (VolumeState recorded : state.loadAll(log)) {
      try {
        resume(recorded, now);
      } catch (IOException e) {
        // One volume's trouble (an unmount that failed) must not keep the others from resuming.
        log.warn(
            "volume "
                + recorded.volumeId()
                + " of pod "
                + recorded.volume().pod()
                + " not resumed: "
                + e.getMessage()
                + "; kubelet's next republish or unpublish decides");
      }
    }
  }

  private void resume(VolumeState recorded, Instant now) throws IOException, InterruptedException {
    String id = recorded.volumeId();
    PodVolume volume = recorded.volume();
    Path target = recorded.target();
    if (!Tmpfs.isOurs(target)) {
      forget(id, "its target " + target + " is no longer the plugin's mount");
      return;
    }
    Optional<Path> podDir = recorded.podDir();
    if (podDir.isPresent() && !Files.isDirectory(podDir.get())) {
      if (underKubeletPods(podDir.get())) {
        tmpfs.unmount(target);
        forget(id, "pod " + volume.pod() + " is gone; unmounted " + target);
      } else {
        forget(
            id,
            "pod "
                + volume.pod()
                + " is gone; "
                + target
                + " left mounted: not under KEYWARDEN_CSI_KUBELET_DIR/pods");
      }
      return;
    }
    if (volume.tokenExpiredAt(now)) {
      log.warn(
          "volume "
              + id
              + " of pod "
              + volume.pod()
              + " not resumed: its token expired at "
              + volume.tokenExpiry().orElseThrow()
              + "; its files stay until kubelet republishes it with a new one");
      return;
    }
    PublishedVolume published =
        PublishedVolume.create(options, state.tokenFile(id), target, volume, err);
    published.startWatching();
    volumes.put(id, published);
    log.info(
        "resumed volume "
            + id
            + " for pod "
            + volume.pod()
            + ": "
            + volume.files().files().size()
            + " files at "
            + target);
  }

  private void forget(String volumeId, String why) throws IOException {
    state.delete(volumeId);
    log.info("forgot volume " + volumeId + ": " + why);
  }

  private boolean underKubeletPods(Path podDir) {
    return options
        .kubeletDir()
        .map(root -> podDir.getParent().equals(root.resolve("pods")))
        .orElse(false);
  }

  private synchronized void publish(NodePublishVolumeRequest request)
      throws StatusException, InterruptedException {
    String volumeId = volumeId(request.getVolumeId());
    Path target = targetPath(request.getTargetPath());
    PodVolume volume;
    try {
      // The secrets map (the pod's token) is never logged or put in an error: only parsed.
      volume = PodVolume.parse(request.getVolumeContextMap(), request.getSecretsMap());
    } catch (PodVolume.InvalidVolumeException e) {
      throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException();
    }
    VolumeState record = new VolumeState(volumeId, target, volume);
    PublishedVolume known = volumes.get(volumeId);
    if (known != null && known.target().equals(target)) {
      try {
        state.save(record);
      } catch (IOException e) {
        throw Status.INTERNAL
            .withDescription(
                "writing the new token of pod " + volume.pod() + " failed: " + e.getMessage())
            .asException();
      }
      return;
    }
    if (known != null) {
      // The same volume id at another target: the old watch must not outlive it.
      volumes.remove(volumeId).close();
    }
    boolean takeOver = Tmpfs.isMountPointQuietly(target);
    PublishedVolume published;
    try {
      tmpfs.mount(target);
      state.save(record);
      published = PublishedVolume.create(options, state.tokenFile(volumeId), target, volume, err);
    } catch (IOException e) {
      if (!takeOver) {
        cleanUp(volumeId, target);
      }
      throw Status.INTERNAL
          .withDescription(
              "mounting the volume of pod " + volume.pod() + " failed: " + e.getMessage())
          .asException();
    }
    try {
      published.writeOnce();
    } catch (IOException e) {
      published.close();
      if (!takeOver) {
        cleanUp(volumeId, target);
      }
      throw failure(volume, e);
    }
    published.startWatching();
    volumes.put(volumeId, published);
    log.info(
        (takeOver ? "took over volume " : "published volume ")
            + volumeId
            + " of pod "
            + volume.pod()
            + ": "
            + volume.files().files().size()
            + " files at "
            + target
            + (PodVolume.tokenInSecrets(request.getSecretsMap())
                ? " (token in the secrets)"
                : " (token in the volume context)"));
  }

  private synchronized void unpublish(String volumeId, Path target)
      throws StatusException, InterruptedException {
    PublishedVolume published = volumes.remove(volumeId);
    if (published != null) {
      published.close();
    }
    try {
      tmpfs.unmount(target);
      state.delete(volumeId);
    } catch (IOException e) {
      throw Status.INTERNAL
          .withDescription("unmounting " + target + " failed: " + e.getMessage())
          .asException();
    }
    log.info("unpublished volume " + volumeId + " at " + target);
  }

  private void cleanUp(String volumeId, Path target) throws InterruptedException {
    try {
      tmpfs.unmount(target);
      state.delete(volumeId);
    } catch (IOException e) {
      log.warn("cleaning up volume " + volumeId + " failed: " + e.getMessage());
    }
  }

  /**
   * kubelet shows this as the pod's event: who asked, for which secret, and what the API said.
   * PermissionDenied and NotFound are the pod's to fix; the rest is retried by kubelet.
   */
  private static StatusException failure(PodVolume volume, IOException e) {
    String who =
        "pod "
            + volume.pod()
            + (volume.serviceAccount().isEmpty()
                ? ""
                : " (ServiceAccount " + volume.serviceAccount() + ")");
    if (e instanceof ApiException api && api.status() == 403) {
      return Status.PERMISSION_DENIED
          .withDescription(
              who
                  + " may not read "
                  + api.getMessage()
                  + "; grant its ServiceAccount access in the ManagedSecret's spec.access")
          .asException();
    }
    if (e instanceof ApiException api && api.status() == 404) {
      return Status.NOT_FOUND.withDescription(who + ": " + api.getMessage()).asException();
    }
    if (e instanceof ApiException api && api.status() == 401) {
      return Status.UNAUTHENTICATED.withDescription(who + ": " + api.getMessage()).asException();
    }
    return Status.UNAVAILABLE
        .withDescription(who + ": fetching the files failed: " + e.getMessage())
        .asException();
  }

  private static String volumeId(String volumeId) throws StatusException {
    if (!StateDir.VOLUME_ID.matcher(volumeId).matches()) {
      throw Status.INVALID_ARGUMENT
          .withDescription("volume_id must be a plain name of at most 128 characters")
          .asException();
    }
    return volumeId;
  }

  private static Path targetPath(String targetPath) throws StatusException {
    Path path = targetPath.isEmpty() ? null : Path.of(targetPath);
    if (path == null || !path.isAbsolute() || !path.normalize().equals(path)) {
      throw Status.INVALID_ARGUMENT
          .withDescription("target_path must be an absolute, normalised path")
          .asException();
    }
    return path;
  }
}
