package io.keywarden.csi;

import com.google.protobuf.BoolValue;
import io.grpc.stub.StreamObserver;
import io.keywarden.csi.spec.GetPluginCapabilitiesRequest;
import io.keywarden.csi.spec.GetPluginCapabilitiesResponse;
import io.keywarden.csi.spec.GetPluginInfoRequest;
import io.keywarden.csi.spec.GetPluginInfoResponse;
import io.keywarden.csi.spec.IdentityGrpc;
import io.keywarden.csi.spec.ProbeRequest;
import io.keywarden.csi.spec.ProbeResponse;

/**
 * The CSI Identity service: the driver's name and version, no plugin capabilities (no Controller
 * service: ephemeral inline volumes need none), and always ready once it listens.
 */
final class IdentityService extends IdentityGrpc.IdentityImplBase {

  private final String driverName;

  IdentityService(String driverName) {
    this.driverName = driverName;
  }

  @Override
  public void getPluginInfo(
      GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> response) {
    response.onNext(
        GetPluginInfoResponse.newBuilder()
            .setName(driverName)
            .setVendorVersion(CsiPlugin.version())
            .build());
    response.onCompleted();
  }

  @Override
  public void getPluginCapabilities(
      GetPluginCapabilitiesRequest request,
      StreamObserver<GetPluginCapabilitiesResponse> response) {
    response.onNext(GetPluginCapabilitiesResponse.getDefaultInstance());
    response.onCompleted();
  }

  @Override
  public void probe(ProbeRequest request, StreamObserver<ProbeResponse> response) {
    response.onNext(ProbeResponse.newBuilder().setReady(BoolValue.of(true)).build());
    response.onCompleted();
  }
}
