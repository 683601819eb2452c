package io.keywarden.csi;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.keywarden.agent.Log;
import io.keywarden.csi.registration.InfoRequest;
import io.keywarden.csi.registration.PluginInfo;
import io.keywarden.csi.registration.RegistrationGrpc;
import io.keywarden.csi.spec.GetPluginInfoRequest;
import io.keywarden.csi.spec.IdentityGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin as kubelet meets it: unix sockets, the registration socket in the plugins_registry
 * directory naming the CSI endpoint, and the Identity service behind that endpoint.
 */
class CsiPluginTest {

  @TempDir Path dir;

  @Test
  void registersItselfWithKubeletsPluginWatcherAndServesCsiOnItsSocket() throws Exception {
    Path socket = dir.resolve("plugins/csi.keywarden.io/csi.sock");
    Path registry = dir.resolve("plugins_registry");
    PluginOptions options =
        new PluginOptions(
            "csi.keywarden.io",
            "node-1",
            socket,
            Optional.of(registry),
            Optional.empty(),
            dir.resolve("state"),
            "1m",
            "https://127.0.0.1:1",
            Optional.empty(),
            false);
    EpollEventLoopGroup group = new EpollEventLoopGroup(1);
    Path registration = registry.resolve("csi.keywarden.io-reg.sock");
    try (CsiPlugin plugin = CsiPlugin.start(options, new Log(System.err))) {
      ManagedChannel toRegistration = channel(registration, group);
      PluginInfo info =
          RegistrationGrpc.newBlockingStub(toRegistration)
              .getInfo(InfoRequest.getDefaultInstance());
      assertThat(info.getType()).isEqualTo("CSIPlugin");
      assertThat(info.getName()).isEqualTo("csi.keywarden.io");
      assertThat(info.getEndpoint()).isEqualTo(socket.toString());
      assertThat(info.getSupportedVersionsList()).containsExactly("1.0.0");

      ManagedChannel toCsi = channel(Path.of(info.getEndpoint()), group);
      assertThat(
              IdentityGrpc.newBlockingStub(toCsi)
                  .getPluginInfo(GetPluginInfoRequest.getDefaultInstance())
                  .getName())
          .isEqualTo("csi.keywarden.io");
      toRegistration.shutdownNow();
      toCsi.shutdownNow();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
    assertThat(registration).as("kubelet deregisters when the socket goes").doesNotExist();
    assertThat(Files.exists(socket)).isFalse();
  }

  private static ManagedChannel channel(Path socket, EpollEventLoopGroup group) {
    return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollDomainSocketChannel.class)
        .eventLoopGroup(group)
        .usePlaintext()
        .build();
  }
}
