package io.keywarden.csi;

import io.grpc.stub.StreamObserver;
import io.keywarden.agent.Log;
import io.keywarden.csi.registration.InfoRequest;
import io.keywarden.csi.registration.PluginInfo;
import io.keywarden.csi.registration.RegistrationGrpc;
import io.keywarden.csi.registration.RegistrationStatus;
import io.keywarden.csi.registration.RegistrationStatusResponse;
import java.nio.file.Path;

/**
 * kubelet's plugin registration (pluginregistration v1), served by the plugin itself on a socket in
 * kubelet's {@code plugins_registry} directory: kubelet asks who is there and which CSI endpoint to
 * dial, then says whether it registered the driver. This is all that the node-driver-registrar
 * sidecar does for a Go driver; doing it here keeps one process per node.
 */
final class RegistrationService extends RegistrationGrpc.RegistrationImplBase {

  /** The CSI spec versions kubelet may speak to the endpoint. */
  static final String CSI_VERSION = "1.0.0";

  private final String driverName;
  private final Path csiSocket;
  private final Log log;
  private volatile boolean registered;

  RegistrationService(String driverName, Path csiSocket, Log log) {
    this.driverName = driverName;
    this.csiSocket = csiSocket;
    this.log = log;
  }

  @Override
  public void getInfo(InfoRequest request, StreamObserver<PluginInfo> response) {
    response.onNext(
        PluginInfo.newBuilder()
            .setType("CSIPlugin")
            .setName(driverName)
            .setEndpoint(csiSocket.toString())
            .addSupportedVersions(CSI_VERSION)
            .build());
    response.onCompleted();
  }

  @Override
  public void notifyRegistrationStatus(
      RegistrationStatus status, StreamObserver<RegistrationStatusResponse> response) {
    registered = status.getPluginRegistered();
    if (registered) {
      log.info("kubelet registered CSI driver " + driverName);
    } else {
      log.error("kubelet did not register CSI driver " + driverName + ": " + status.getError());
    }
    response.onNext(RegistrationStatusResponse.getDefaultInstance());
    response.onCompleted();
  }

  /** Whether kubelet said it registered the driver. */
  boolean registered() {
    return registered;
  }
}
