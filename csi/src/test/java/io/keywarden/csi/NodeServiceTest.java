package io.keywarden.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.keywarden.agent.FakeSecretApi;
import io.keywarden.csi.spec.GetPluginCapabilitiesRequest;
import io.keywarden.csi.spec.GetPluginInfoRequest;
import io.keywarden.csi.spec.IdentityGrpc;
import io.keywarden.csi.spec.NodeGetCapabilitiesRequest;
import io.keywarden.csi.spec.NodeGetInfoRequest;
import io.keywarden.csi.spec.NodeGrpc;
import io.keywarden.csi.spec.NodePublishVolumeRequest;
import io.keywarden.csi.spec.NodeUnpublishVolumeRequest;
import io.keywarden.csi.spec.ProbeRequest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CSI Identity and Node services through gRPC (in-process channel), with real tmpfs mounts (the
 * tests run as root, as the plugin does on a node) and the agent's fake secret-value API.
 */
class NodeServiceTest {

  private static final String VOLUME = "csi-0123abcd";

  @TempDir Path dir;

  private FakeSecretApi api;
  private PluginOptions options;
  private Server server;
  private ManagedChannel channel;
  private NodeService node;
  private NodeGrpc.NodeBlockingStub nodeStub;
  private Path target;
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();

  @BeforeEach
  void start() throws Exception {
    assertThat(new com.sun.security.auth.module.UnixSystem().getUid())
        .as("the node plugin's tests mount tmpfs and run as root, as the plugin does")
        .isZero();
    api = FakeSecretApi.start();
    api.expectToken("token-1");
    api.put("db", "{\"username\":\"orders\",\"password\":\"pw-0\"}");
    options =
        new PluginOptions(
            "csi.keywarden.io",
            "node-1",
            dir.resolve("csi.sock"),
            Optional.empty(),
            Optional.empty(),
            dir.resolve("state"),
            "1m",
            api.url(),
            Optional.empty(),
            true);
    serve(newNode());
    target = dir.resolve("pods/uid-1/volumes/kubernetes.io~csi/secrets/mount");
    Files.createDirectories(target.getParent());
  }

  private NodeService newNode() {
    return new NodeService(
        options, new Tmpfs("1m"), new PrintStream(log, true, StandardCharsets.UTF_8));
  }

  private void serve(NodeService service) throws Exception {
    node = service;
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(new IdentityService("csi.keywarden.io"))
            .addService(node)
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    nodeStub = NodeGrpc.newBlockingStub(channel);
  }

  /**
   * As a plugin killed and started again: the old process's watches end (mounts, files and state
   * stay), a new one resumes from the state directory before it serves.
   */
  private void restart() throws Exception {
    node.stopAll();
    channel.shutdownNow();
    server.shutdownNow();
    NodeService restarted = newNode();
    restarted.resume();
    serve(restarted);
  }

  @AfterEach
  void stop() throws Exception {
    node.stopAll();
    channel.shutdownNow();
    server.shutdownNow();
    api.close();
    if (Tmpfs.isMountPoint(target)) {
      new Tmpfs("1m").unmount(target);
    }
  }

  @Test
  void identityNamesTheDriverAndIsReady() {
    IdentityGrpc.IdentityBlockingStub identity = IdentityGrpc.newBlockingStub(channel);
    assertThat(identity.getPluginInfo(GetPluginInfoRequest.getDefaultInstance()).getName())
        .isEqualTo("csi.keywarden.io");
    assertThat(
            identity
                .getPluginCapabilities(GetPluginCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList())
        .as("no Controller service")
        .isEmpty();
    assertThat(identity.probe(ProbeRequest.getDefaultInstance()).getReady().getValue()).isTrue();
    assertThat(nodeStub.nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()).getNodeId())
        .isEqualTo("node-1");
    assertThat(
            nodeStub
                .nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList())
        .as("no staging for ephemeral volumes")
        .isEmpty();
  }

  @Test
  void publishMountsASizeLimitedTmpfsAndWritesTheFilesWithThePodsToken() throws Exception {
    nodeStub.nodePublishVolume(publish("token-1", attributes()));

    assertThat(Tmpfs.isMountPoint(target)).isTrue();
    String mount = mountInfo(target);
    assertThat(mount).contains(" - tmpfs ").contains("size=1024k");
    assertThat(target.resolve("password")).hasContent("pw-0");
    assertThat(target.resolve("db.env")).hasContent("USERNAME='orders'\nPASSWORD='pw-0'\n");
    assertThat(Files.isSymbolicLink(target.resolve("..data")))
        .as("the agent's ..data swap")
        .isTrue();
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(target.resolve("password"))))
        .isEqualTo("r--r-----");
    assertThat(api.requests())
        .allSatisfy(r -> assertThat(r.authorization()).isEqualTo("Bearer token-1"));
    assertThat(api.requests()).allSatisfy(r -> assertThat(r.namespace()).isEqualTo("shop"));
    assertThat(log.toString(StandardCharsets.UTF_8))
        .doesNotContain("token-1")
        .doesNotContain("pw-0");
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("published volume " + VOLUME + " of pod shop/orders-1: 2 files at " + target)
        .contains("(token in the secrets)");
    assertTheTokenIsOnlyInItsTokenFile("token-1");
  }

  /** An older cluster, or a CSIDriver without serviceAccountTokenInSecrets. */
  @Test
  void aTokenInTheVolumeContextServesTheVolumeAlike() throws Exception {
    nodeStub.nodePublishVolume(publishWithTheTokenInTheContext("token-1", attributes()));

    assertThat(target.resolve("password")).hasContent("pw-0");
    assertThat(api.requests())
        .allSatisfy(r -> assertThat(r.authorization()).isEqualTo("Bearer token-1"));
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("(token in the volume context)")
        .doesNotContain("token-1");
    assertTheTokenIsOnlyInItsTokenFile("token-1");

    api.expectToken("token-2");
    nodeStub.nodePublishVolume(publishWithTheTokenInTheContext("token-2", attributes()));
    api.put("db", "{\"username\":\"orders\",\"password\":\"pw-2\"}");
    await(() -> content(target.resolve("password")).equals("pw-2"));
    assertTheTokenIsOnlyInItsTokenFile("token-2");
  }

  @Test
  void aPublishWithoutATokenIsRefusedNamingTheCsiDriversFix() {
    NodePublishVolumeRequest request =
        NodePublishVolumeRequest.newBuilder()
            .setVolumeId(VOLUME)
            .setTargetPath(target.toString())
            .putAllVolumeContext(attributes())
            .build();

    assertThatThrownBy(() -> nodeStub.nodePublishVolume(request))
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessage(
            "INVALID_ARGUMENT: kubelet sent no token for audience keywarden.io in"
                + " csi.storage.k8s.io/serviceAccount.tokens of the secrets or the volume context:"
                + " the CSIDriver object needs tokenRequests: [{audience: keywarden.io}]");
    assertThat(Tmpfs.isMountPointQuietly(target)).isFalse();
  }

  /**
   * The plugin's records on the node hold the token in the volume's token file only: not in
   * volume.json (whichever of the request's maps it came in), nowhere else in the state directory.
   */
  private void assertTheTokenIsOnlyInItsTokenFile(String token) throws Exception {
    Path volumes = dir.resolve("state/volumes");
    assertThat(volumes.resolve(VOLUME).resolve("token")).hasContent(token);
    assertThat(Files.readString(volumes.resolve(VOLUME).resolve("volume.json")))
        .doesNotContain(token);
    try (var files = Files.walk(volumes)) {
      assertThat(files.filter(Files::isRegularFile).map(Path::getFileName).map(Path::toString))
          .containsExactlyInAnyOrder("token", "volume.json");
    }
  }

  @Test
  void aRotationRewritesTheFilesThroughTheLongPoll() throws Exception {
    nodeStub.nodePublishVolume(publish("token-1", attributes()));

    api.put("db", "{\"username\":\"orders\",\"password\":\"pw-1\"}");

    await(() -> content(target.resolve("password")).equals("pw-1"));
    assertThat(target.resolve("db.env")).hasContent("USERNAME='orders'\nPASSWORD='pw-1'\n");
  }

  @Test
  void republishHandsOverTheNewTokenForTheNextRequests() throws Exception {
    nodeStub.nodePublishVolume(publish("token-1", attributes()));
    // The watch's first long-poll, sent with token-1, is held across the republish (CI once had
    // it; most runs republish before the watch sends).
    await(() -> api.arrivals().stream().anyMatch(FakeSecretApi.Request::isLongPoll));
    api.expectToken("token-2");
    nodeStub.nodePublishVolume(publish("token-2", attributes()));

    api.put("db", "{\"username\":\"orders\",\"password\":\"pw-2\"}");

    await(() -> content(target.resolve("password")).equals("pw-2"));
    // The held long-poll brought pw-2; the watcher's next one is sent with token-2. The server
    // holds that one until the next change, so it is looked for among the arrivals.
    await(
        () ->
            api.arrivals().get(api.arrivals().size() - 1).authorization().equals("Bearer token-2"));
  }

  @Test
  void theLastGoodFilesStayWhileTheApiIsDownAndRefreshAfter() throws Exception {
    nodeStub.nodePublishVolume(publish("token-1", attributes()));

    api.setDown(true);
    await(() -> log.toString(StandardCharsets.UTF_8).contains("files kept, retrying in"));
    assertThat(target.resolve("password")).hasContent("pw-0");

    api.put("db", "{\"username\":\"orders\",\"password\":\"pw-3\"}");
    api.setDown(false);
    // Backoff with full jitter: the first retries wait less than 1 s, 2 s, 4 s.
    await(() -> content(target.resolve("password")).equals("pw-3"));
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("pod shop/orders-1: fetching secret db failed: ");
  }

  @Test
  void aPodWithoutAccessGetsPermissionDeniedNamingTheSecretAndNoMount() throws Exception {
    api.failNext(1, 403, "AccessDeniedException", null);

    assertThatThrownBy(() -> nodeStub.nodePublishVolume(publish("token-1", attributes())))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
              assertThat(e.getStatus().getDescription())
                  .contains("pod shop/orders-1 (ServiceAccount orders) may not read secret db")
                  .contains("spec.access")
                  .doesNotContain("token-1");
            });
    assertThat(Tmpfs.isMountPoint(target)).isFalse();
    assertThat(target).doesNotExist();
  }

  @Test
  void aBadAttributeIsRefusedNamingItInTheAnnotationsGrammar() {
    Map<String, String> attributes = attributes();
    attributes.put("format.password", "yaml");

    assertThatThrownBy(() -> nodeStub.nodePublishVolume(publish("token-1", attributes)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription())
                  .startsWith(
                      "volume attribute format.password: unknown format 'yaml' (expected raw");
            });
    assertThat(api.requests()).isEmpty();
  }

  @Test
  void onlyInlineEphemeralVolumesAreServed() {
    Map<String, String> attributes = attributes();
    attributes.remove(PodVolume.EPHEMERAL);

    assertThatThrownBy(() -> nodeStub.nodePublishVolume(publish("token-1", attributes)))
        .hasMessageContaining("INVALID_ARGUMENT")
        .hasMessageContaining("only CSI ephemeral inline volumes");
  }

  @Test
  void unpublishStopsTheWatchAndUnmounts() throws Exception {
    nodeStub.nodePublishVolume(publish("token-1", attributes()));

    nodeStub.nodeUnpublishVolume(
        NodeUnpublishVolumeRequest.newBuilder()
            .setVolumeId(VOLUME)
            .setTargetPath(target.toString())
            .build());

    assertThat(Tmpfs.isMountPoint(target)).isFalse();
    assertThat(target).doesNotExist();
    assertThat(dir.resolve("state/volumes").resolve(VOLUME)).doesNotExist();
    // The server still answers the long-poll it was holding when the value changes; a watcher
    // still running would then poll again and be answered at the next change.
    api.put("db", "{\"username\":\"orders\",\"password\":\"pw-4\"}");
    Thread.sleep(500);
    int requests = api.requests().size();
    api.put("db", "{\"username\":\"orders\",\"password\":\"pw-5\"}");
    Thread.sleep(1000);
    assertThat(api.requests()).as("no request after unpublish").hasSize(requests);
  }

  @Test
  void aRestartedPluginResumesEveryRecordedVolumeAtOnceAndARepublishOnlyRefreshesItsToken()
      throws Exception {
    nodeStub.nodePublishVolume(publish("token-1", attributes()));
    // A record the new process cannot read does not keep it from resuming the others.
    Path corrupt = dir.resolve("state/volumes/csi-corrupt");
    Files.createDirectories(corrupt);
    Files.writeString(corrupt.resolve("volume.json"), "{\"version\":");
    Files.writeString(corrupt.resolve("token"), "token-9");

    restart();

    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("resumed volume " + VOLUME + " for pod shop/orders-1: 2 files at " + target)
        .contains("state: skipping volume csi-corrupt: volume.json: not JSON")
        .doesNotContain("token-1");
    // No NodePublishVolume since the restart: the resumed watch alone follows the secret.
    api.put("db", "{\"username\":\"orders\",\"password\":\"pw-6\"}");
    await(() -> content(target.resolve("password")).equals("pw-6"));

    // kubelet's next republish only hands over the fresh token: no second watch, no remount.
    api.expectToken("token-2");
    nodeStub.nodePublishVolume(publish("token-2", attributes()));
    assertThat(dir.resolve("state/volumes").resolve(VOLUME).resolve("token")).hasContent("token-2");
    api.put("db", "{\"username\":\"orders\",\"password\":\"pw-7\"}");
    await(() -> content(target.resolve("password")).equals("pw-7"));
    assertThat(log.toString(StandardCharsets.UTF_8)).doesNotContain("took over volume");
    assertThat(mountInfo(target).split("\n")).as("mounted once").hasSize(1);
    Thread.sleep(1000);
    long polls = api.requests().stream().filter(FakeSecretApi.Request::isLongPoll).count();
    api.put("db", "{\"username\":\"orders\",\"password\":\"pw-8\"}");
    await(() -> content(target.resolve("password")).equals("pw-8"));
    Thread.sleep(1000);
    assertThat(api.requests().stream().filter(FakeSecretApi.Request::isLongPoll).count() - polls)
        .as("one watch per secret (one secret here): one new long-poll after the change")
        .isEqualTo(1);
    assertThat(api.requests().get(api.requests().size() - 1).authorization())
        .isEqualTo("Bearer token-2");
  }

  @Test
  void aRecordWithAnExpiredTokenKeepsItsFilesUntilKubeletRepublishes() throws Exception {
    nodeStub.nodePublishVolume(publish("token-1", "2020-01-01T00:00:00Z", attributes()));

    restart();

    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains(
            "volume "
                + VOLUME
                + " of pod shop/orders-1 not resumed: its token expired at 2020-01-01T00:00:00Z;"
                + " its files stay until kubelet republishes it");
    assertNoRequestAfterTheNextChange("pw-9");
    assertThat(target.resolve("password")).hasContent("pw-0");

    nodeStub.nodePublishVolume(publish("token-1", attributes()));
    assertThat(target.resolve("password")).hasContent("pw-9");
    assertThat(log.toString(StandardCharsets.UTF_8)).contains("took over volume " + VOLUME);
    assertThat(mountInfo(target).split("\n")).as("mounted once").hasSize(1);
  }

  @Test
  void aRecordWhoseMountIsGoneIsForgotten() throws Exception {
    nodeStub.nodePublishVolume(publish("token-1", attributes()));
    node.stopAll();
    new Tmpfs("1m").unmount(target); // as a node reboot does

    restart();

    assertThat(dir.resolve("state/volumes").resolve(VOLUME)).doesNotExist();
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("forgot volume " + VOLUME + ": its target " + target)
        .doesNotContain("resumed volume");
    assertNoRequestAfterTheNextChange("pw-10");
  }

  /**
   * No watch is running: the fake API answers the long-poll the stopped process left waiting at the
   * first change (a value {@code before} the one that counts), and nothing asks again after.
   */
  private void assertNoRequestAfterTheNextChange(String password) throws InterruptedException {
    api.put("db", "{\"username\":\"orders\",\"password\":\"before-" + password + "\"}");
    Thread.sleep(500);
    int requests = api.requests().size();
    api.put("db", "{\"username\":\"orders\",\"password\":\"" + password + "\"}");
    Thread.sleep(1000);
    assertThat(api.requests()).as("no request after the change").hasSize(requests);
  }

  @Test
  void aMountAtTheTargetThatIsNotThePluginsIsNeverTouched() throws Exception {
    nodeStub.nodePublishVolume(publish("token-1", attributes()));
    node.stopAll();
    new Tmpfs("1m").unmount(target);
    Files.createDirectories(target);
    Process mount =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "someone", target.toString())
            .inheritIO()
            .start();
    assertThat(mount.waitFor()).isZero();
    Files.writeString(target.resolve("theirs"), "x");

    restart();

    assertThat(log.toString(StandardCharsets.UTF_8)).doesNotContain("resumed volume");
    assertThat(dir.resolve("state/volumes").resolve(VOLUME)).doesNotExist();
    assertThat(mountInfo(target)).contains(" - tmpfs someone ");
    assertThat(target.resolve("theirs")).hasContent("x");
  }

  @Test
  void aPluginWithoutARecordTakesOverAMountedVolumeOnRepublish() throws Exception {
    nodeStub.nodePublishVolume(publish("token-1", attributes()));
    node.stopAll(); // as a plugin that stopped: mounts and files stay
    new StateDir(dir.resolve("state")).delete(VOLUME); // and kept no record (an older version)

    api.put("db", "{\"username\":\"orders\",\"password\":\"pw-5\"}");
    nodeStub.nodePublishVolume(publish("token-1", attributes()));

    assertThat(target.resolve("password")).hasContent("pw-5");
    assertThat(mountInfo(target).split("\n")).as("mounted once").hasSize(1);
    assertThat(log.toString(StandardCharsets.UTF_8)).contains("took over volume " + VOLUME);
  }

  private NodePublishVolumeRequest publish(String token, Map<String, String> attributes) {
    return publish(token, "2030-01-01T00:00:00Z", attributes);
  }

  /**
   * kubelet's request with the shipped CSIDriver ({@code serviceAccountTokenInSecrets: true}): the
   * token in the secrets.
   */
  private NodePublishVolumeRequest publish(
      String token, String expiry, Map<String, String> attributes) {
    return NodePublishVolumeRequest.newBuilder()
        .setVolumeId(VOLUME)
        .setTargetPath(target.toString())
        .putAllVolumeContext(attributes)
        .putSecrets(PodVolume.TOKENS, tokens(token, expiry))
        .build();
  }

  /** kubelet's request for a CSIDriver without {@code serviceAccountTokenInSecrets}. */
  private NodePublishVolumeRequest publishWithTheTokenInTheContext(
      String token, Map<String, String> attributes) {
    Map<String, String> context = new HashMap<>(attributes);
    context.put(PodVolume.TOKENS, tokens(token, "2030-01-01T00:00:00Z"));
    return NodePublishVolumeRequest.newBuilder()
        .setVolumeId(VOLUME)
        .setTargetPath(target.toString())
        .putAllVolumeContext(context)
        .build();
  }

  private static String tokens(String token, String expiry) {
    return "{\"keywarden.io\":{\"token\":\""
        + token
        + "\",\"expirationTimestamp\":\""
        + expiry
        + "\"}}";
  }

  /** What kubelet sends for an inline volume of pod shop/orders-1, plus the user's attributes. */
  private static Map<String, String> attributes() {
    Map<String, String> attributes = new HashMap<>();
    attributes.put(PodVolume.EPHEMERAL, "true");
    attributes.put(PodVolume.POD_NAME, "orders-1");
    attributes.put(PodVolume.POD_NAMESPACE, "shop");
    attributes.put(PodVolume.POD_UID, "uid-1");
    attributes.put(PodVolume.SERVICE_ACCOUNT, "orders");
    attributes.put("secret.password", "db");
    attributes.put("key.password", "password");
    attributes.put("secret.db.env", "db");
    attributes.put("format.db.env", "env");
    attributes.put("file-mode", "0440");
    return attributes;
  }

  private static String mountInfo(Path target) throws Exception {
    return String.join(
        "\n",
        Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
            .filter(line -> line.split(" ")[4].equals(target.toString()))
            .toList());
  }

  private static String content(Path file) {
    try {
      return Files.readString(file);
    } catch (Exception e) {
      return "";
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
    while (!condition.getAsBoolean()) {
      assertThat(Instant.now()).as("condition within 20 s").isBefore(deadline);
      Thread.sleep(20);
    }
  }
}
