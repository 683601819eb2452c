package io.keywarden.csi;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.keywarden.agent.FakeSecretApi;
import io.keywarden.agent.TestTls;
import io.keywarden.csi.spec.NodeGrpc;
import io.keywarden.csi.spec.NodePublishVolumeRequest;
import io.keywarden.csi.spec.NodeUnpublishVolumeRequest;
import io.keywarden.csi.spec.ProbeRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Measures the node plugin's memory per published volume: the real jar as its own JVM, N volumes
 * published through its unix socket (each 3 files from 2 secrets, its own tmpfs, its own
 * long-polls), against {@link FakeSecretApi} over plain HTTP. Reports the plugin's {@code VmRSS}
 * after the volumes settled, the cost per volume beyond the first, and the time from a new version
 * of the secret all volumes share to the last volume's file showing it. Build first ({@code ./mvnw
 * -B -o -q install -pl csi -am -DskipTests}), then as root from the repository root:
 *
 * <pre>
 * java -cp "csi/target/test-classes:csi/target/classes:csi/target/lib/*:agent/target/keywarden-agent-0.1.0-SNAPSHOT-tests.jar" \
 *   io.keywarden.csi.CsiFootprint 1 10 50 100
 * </pre>
 *
 * {@code KEYWARDEN_CSI_JAVA_OPTS} are the plugin JVM's options (default {@value #DEFAULT_OPTS}).
 */
public final class CsiFootprint {

  static final String DEFAULT_OPTS = "-XX:+UseSerialGC -Xss256k -XX:TieredStopAtLevel=1";

  private CsiFootprint() {}

  public static void main(String[] args) throws Exception {
    List<Integer> counts = new ArrayList<>();
    for (String arg : args) {
      counts.add(Integer.parseInt(arg));
    }
    if (counts.isEmpty()) {
      counts = List.of(1, 10, 50, 100);
    }
    String opts = System.getenv().getOrDefault("KEYWARDEN_CSI_JAVA_OPTS", DEFAULT_OPTS);
    boolean tls = !"false".equals(System.getenv("KEYWARDEN_CSI_TLS"));
    System.out.printf(
        "keywarden-csi footprint: %d cores, java %s, plugin JVM options %s, %s%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        opts,
        tls ? "HTTPS with a private CA" : "plain HTTP");
    System.out.println(
        "| volumes | plugin VmRSS MiB | per volume beyond the first, MiB | threads | rotation -> last file, ms |");
    System.out.println("|---|---|---|---|---|");
    long baseline = -1;
    for (int count : counts) {
      long[] result = run(count, opts, tls);
      if (baseline < 0) {
        baseline = result[0];
      }
      String perVolume =
          count > counts.get(0)
              ? String.format("%.2f", (result[0] - baseline) / 1024.0 / (count - counts.get(0)))
              : "–";
      System.out.printf(
          "| %d | %.1f | %s | %d | %d |%n",
          count, result[0] / 1024.0, perVolume, result[1], result[2]);
    }
  }

  /** Returns VmRSS in KiB, the thread count and the rotation time in ms. */
  private static long[] run(int count, String opts, boolean tls) throws Exception {
    Path dir = Files.createTempDirectory("keywarden-csi-footprint-");
    Path jar =
        Files.list(Path.of("csi", "target"))
            .map(p -> p.getFileName().toString())
            .filter(name -> name.startsWith("keywarden-csi-") && name.endsWith(".jar"))
            .filter(name -> !name.endsWith("-tests.jar"))
            .map(name -> Path.of("csi", "target", name))
            .findFirst()
            .orElseThrow(() -> new IllegalStateException("no csi/target/keywarden-csi-*.jar"));
    Path socket = dir.resolve("csi.sock");
    try (FakeSecretApi api =
        tls ? FakeSecretApi.startHttps(TestTls.get().serverContext()) : FakeSecretApi.start()) {
      api.put("db", "{\"username\":\"orders\",\"password\":\"pw-0\"}");
      api.put("api-key", "key-0");
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      Collections.addAll(command, opts.split(" +"));
      command.add("-jar");
      command.add(jar.toString());
      ProcessBuilder builder =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("plugin.log").toFile());
      Map<String, String> env = builder.environment();
      env.put("KEYWARDEN_CSI_NODE_ID", "bench");
      env.put("KEYWARDEN_CSI_SOCKET", socket.toString());
      env.put("KEYWARDEN_CSI_STATE_DIR", dir.resolve("state").toString());
      env.put("KEYWARDEN_API_URL", api.url());
      if (tls) {
        env.put(
            "KEYWARDEN_API_CA_FILE",
            Files.writeString(dir.resolve("ca.pem"), TestTls.get().caPem()).toString());
      } else {
        env.put("KEYWARDEN_ALLOW_INSECURE_HTTP", "true");
      }
      Process plugin = builder.start();
      EpollEventLoopGroup group = new EpollEventLoopGroup(1);
      ManagedChannel channel =
          NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
              .channelType(EpollDomainSocketChannel.class)
              .eventLoopGroup(group)
              .usePlaintext()
              .build();
      try {
        awaitSocket(socket, channel);
        NodeGrpc.NodeBlockingStub node = NodeGrpc.newBlockingStub(channel);
        List<Path> targets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          Path target = dir.resolve("pods/" + i + "/mount");
          Files.createDirectories(target.getParent());
          node.nodePublishVolume(publish("csi-" + i, target, i));
          targets.add(target);
        }
        Thread.sleep(5000);
        System.gc();
        long rss = status(plugin.pid(), "VmRSS:");
        long threads = status(plugin.pid(), "Threads:");
        long start = System.nanoTime();
        api.put("db", "{\"username\":\"orders\",\"password\":\"pw-1\"}");
        for (Path target : targets) {
          while (!Files.readString(target.resolve("password")).equals("pw-1")) {
            Thread.sleep(5);
          }
        }
        long rotation = (System.nanoTime() - start) / 1_000_000;
        for (int i = 0; i < count; i++) {
          node.nodeUnpublishVolume(
              NodeUnpublishVolumeRequest.newBuilder()
                  .setVolumeId("csi-" + i)
                  .setTargetPath(targets.get(i).toString())
                  .build());
        }
        return new long[] {rss, threads, rotation};
      } finally {
        channel.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        plugin.destroy();
        plugin.waitFor(10, TimeUnit.SECONDS);
        plugin.destroyForcibly();
      }
    }
  }

  private static NodePublishVolumeRequest publish(String volumeId, Path target, int pod) {
    return NodePublishVolumeRequest.newBuilder()
        .setVolumeId(volumeId)
        .setTargetPath(target.toString())
        .putVolumeContext(PodVolume.EPHEMERAL, "true")
        .putVolumeContext(PodVolume.POD_NAME, "app-" + pod)
        .putVolumeContext(PodVolume.POD_NAMESPACE, "shop")
        .putVolumeContext(PodVolume.SERVICE_ACCOUNT, "app")
        .putSecrets(PodVolume.TOKENS, "{\"keywarden.io\":{\"token\":\"token-" + pod + "\"}}")
        .putVolumeContext("secret.password", "db")
        .putVolumeContext("key.password", "password")
        .putVolumeContext("secret.db.env", "db")
        .putVolumeContext("format.db.env", "env")
        .putVolumeContext("secret.api.key", "api-key")
        .build();
  }

  private static void awaitSocket(Path socket, ManagedChannel channel) throws Exception {
    for (int i = 0; i < 300; i++) {
      if (Files.exists(socket)) {
        try {
          io.keywarden.csi.spec.IdentityGrpc.newBlockingStub(channel)
              .probe(ProbeRequest.getDefaultInstance());
          return;
        } catch (RuntimeException e) {
          // not yet listening
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the plugin did not listen on " + socket);
  }

  /** A number field of /proc/PID/status, e.g. VmRSS (KiB) or Threads. */
  private static long status(long pid, String field) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.substring(field.length()).strip().split(" ")[0]);
      }
    }
    throw new IllegalStateException(field + " not in /proc/" + pid + "/status");
  }
}
