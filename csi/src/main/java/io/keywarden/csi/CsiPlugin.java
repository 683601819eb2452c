package io.keywarden.csi;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.keywarden.agent.Log;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Entry point of the node plugin: the CSI Identity and Node services on the CSI socket, and (with
 * {@code KEYWARDEN_CSI_REGISTRATION_DIR}) kubelet's plugin registration on a socket in that
 * directory. Runs until SIGTERM; the mounts and files of running pods stay, and the next start
 * resumes their watches from its state directory before it serves.
 */
public final class CsiPlugin implements AutoCloseable {

  static final int EXIT_USAGE = 2;

  private final List<Server> servers;
  private final NodeService node;
  private final EventLoopGroup group;
  private final List<Path> sockets;

  private CsiPlugin(
      List<Server> servers, NodeService node, EventLoopGroup group, List<Path> sockets) {
    this.servers = servers;
    this.node = node;
    this.group = group;
    this.sockets = sockets;
  }

  public static void main(String[] args) throws Exception {
    Log log = new Log(System.err);
    PluginOptions options;
    try {
      options = PluginOptions.fromEnv(System.getenv());
    } catch (PluginOptions.OptionException e) {
      log.error("invalid configuration: " + e.getMessage());
      System.exit(EXIT_USAGE);
      return;
    }
    CsiPlugin plugin = start(options, log);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("stopping (SIGTERM or SIGINT); mounts stay for the next start");
                  plugin.close();
                  stopped.countDown();
                },
                "stop"));
    stopped.await();
  }

  /**
   * Resumes the volumes an earlier run recorded, then listens on the sockets of {@code options},
   * replacing stale socket files of that run.
   */
  static CsiPlugin start(PluginOptions options, Log log) throws IOException, InterruptedException {
    // The directory itself may be a shared one (/run): only its volumes/ is made 0700.
    Files.createDirectories(options.stateDir());
    warnUnlessInMemory(options.stateDir(), log);
    NodeService node = new NodeService(options, new Tmpfs(options.tmpfsSize()), System.err);
    node.resume();
    EventLoopGroup group = new EpollEventLoopGroup(1);
    Server csi =
        listen(options.socket(), group, List.of(new IdentityService(options.driverName()), node));
    List<Server> servers = new java.util.ArrayList<>(List.of(csi));
    List<Path> sockets = new java.util.ArrayList<>(List.of(options.socket()));
    if (options.registrationDir().isPresent()) {
      Path registration =
          options.registrationDir().get().resolve(options.driverName() + "-reg.sock");
      servers.add(
          listen(
              registration,
              group,
              List.of(new RegistrationService(options.driverName(), options.socket(), log))));
      sockets.add(registration);
    }
    log.info(
        "keywarden-csi "
            + version()
            + " serving "
            + options.driverName()
            + " on "
            + sockets
            + " for node "
            + options.nodeId()
            + " via "
            + options.apiUrl());
    return new CsiPlugin(servers, node, group, sockets);
  }

  /**
   * The state directory holds the pods' tokens: on a memory file system they never reach the node's
   * disk and go when the node reboots, as the volumes' tmpfs mounts do.
   */
  private static void warnUnlessInMemory(Path stateDir, Log log) {
    try {
      Tmpfs.fileSystemType(stateDir)
          .filter(type -> !type.equals("tmpfs") && !type.equals("ramfs"))
          .ifPresent(
              type ->
                  log.warn(
                      "state directory "
                          + stateDir
                          + " is on "
                          + type
                          + ", not on memory (tmpfs): the pods' tokens reach the node's disk and"
                          + " outlive a reboot; put "
                          + PluginOptions.STATE_DIR
                          + " under /run"));
    } catch (IOException e) {
      // Only a warning; the plugin works either way.
    }
  }

  private static Server listen(Path socket, EventLoopGroup group, List<BindableService> services)
      throws IOException {
    Files.createDirectories(socket.getParent());
    Files.deleteIfExists(socket);
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(group)
            .workerEventLoopGroup(group);
    services.forEach(builder::addService);
    return builder.build().start();
  }

  /** Stops listening (the registration socket goes, so kubelet deregisters) and every watch. */
  @Override
  public void close() {
    for (Server server : servers) {
      server.shutdown();
    }
    try {
      for (Server server : servers) {
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
      node.stopAll();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    for (Path socket : sockets) {
      try {
        Files.deleteIfExists(socket);
      } catch (IOException e) {
        // a later start replaces it
      }
    }
  }

  static String version() {
    String version = CsiPlugin.class.getPackage().getImplementationVersion();
    return version == null ? "(development build)" : version;
  }
}
