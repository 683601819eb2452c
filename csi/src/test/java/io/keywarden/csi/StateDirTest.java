package io.keywarden.csi;

import static org.assertj.core.api.Assertions.assertThat;

import io.keywarden.agent.Log;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin's records on the node: what a restarted plugin reads back is what it published, the
 * files are private and replaced whole, and a record it cannot use is skipped with a log line.
 */
class StateDirTest {

  private static final String TARGET =
      "/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/secrets/mount";

  @TempDir Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final Log log = new Log(new PrintStream(out, true, StandardCharsets.UTF_8));

  @Test
  void aSavedVolumeReadsBackAsPublishedWithItsTokenInItsOwnFile() throws Exception {
    StateDir state = new StateDir(dir);
    VolumeState saved = state("csi-1", "token-1", "2030-01-01T00:00:00Z");

    state.save(saved);

    assertThat(state.loadAll(log)).containsExactly(saved);
    Path volume = dir.resolve("volumes/csi-1");
    assertThat(volume.resolve("token")).hasContent("token-1");
    assertThat(Files.readString(volume.resolve("volume.json")))
        .as("the record holds no token")
        .doesNotContain("token-1")
        .contains("\"tokenExpiry\":\"2030-01-01T00:00:00Z\"")
        .contains("\"uid\":\"uid-1\"")
        .contains("\"secret.password\":\"db\"");
    assertThat(mode(dir.resolve("volumes"))).isEqualTo("rwx------");
    assertThat(mode(volume)).isEqualTo("rwx------");
    assertThat(mode(volume.resolve("token"))).isEqualTo("rw-------");
    assertThat(mode(volume.resolve("volume.json"))).isEqualTo("rw-------");
    assertThat(names(volume)).containsExactlyInAnyOrder("token", "volume.json");
  }

  @Test
  void aRepublishReplacesTokenAndExpiryWholeAndAnInterruptedWriteLeavesTheLastRecord()
      throws Exception {
    StateDir state = new StateDir(dir);
    state.save(state("csi-1", "token-1", "2030-01-01T00:00:00Z"));
    // A plugin killed in the middle of its next write leaves a temporary file behind.
    Path volume = dir.resolve("volumes/csi-1");
    Files.writeString(volume.resolve("volume.json.tmp"), "{\"version\":1,\"volu");
    Files.writeString(volume.resolve("token.tmp"), "tok");

    assertThat(state.loadAll(log))
        .containsExactly(state("csi-1", "token-1", "2030-01-01T00:00:00Z"));

    VolumeState republished = state("csi-1", "token-2", "2030-01-01T01:00:00Z");
    state.save(republished);
    assertThat(state.loadAll(log)).containsExactly(republished);
    assertThat(names(volume)).containsExactlyInAnyOrder("token", "volume.json");
  }

  @Test
  void whatIsNotAUsableRecordIsSkippedWithALogLineAndTheRestIsRead() throws Exception {
    StateDir state = new StateDir(dir);
    VolumeState good = state("csi-good", "token-1", "2030-01-01T00:00:00Z");
    state.save(good);
    for (String name :
        List.of("csi-corrupt", "csi-version", "csi-notoken", "csi-moved", "csi-bad")) {
      state.save(state(name, "token-1", "2030-01-01T00:00:00Z"));
    }
    Path volumes = dir.resolve("volumes");
    Files.writeString(volumes.resolve("csi-corrupt/volume.json"), "{\"version\":1,\"volu");
    Files.writeString(
        volumes.resolve("csi-version/volume.json"),
        Files.readString(volumes.resolve("csi-version/volume.json"))
            .replace("\"version\":1", "\"version\":2"));
    Files.delete(volumes.resolve("csi-notoken/token"));
    Files.writeString(
        volumes.resolve("csi-moved/volume.json"),
        Files.readString(volumes.resolve("csi-moved/volume.json"))
            .replace("csi-moved", "csi-other"));
    Files.writeString(
        volumes.resolve("csi-bad/volume.json"),
        Files.readString(volumes.resolve("csi-bad/volume.json"))
            .replace("\"secret.password\":\"db\"", "\"secret.password\":\"../db\""));
    Files.writeString(volumes.resolve("notes.txt"), "left by someone");
    Files.createDirectories(volumes.resolve("no such volume!"));

    assertThat(state.loadAll(log)).containsExactly(good);

    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("state: skipping volume csi-corrupt: volume.json: not JSON")
        .contains("state: skipping volume csi-version: volume.json: version 2 is not 1")
        .contains("state: skipping volume csi-notoken: no ")
        .contains("state: skipping volume csi-moved: volume.json: volumeId csi-other is not")
        .contains("state: skipping volume csi-bad: volume.json: volume attribute secret.password")
        .contains("notes.txt: not a volume's directory")
        .contains("no such volume!: not a volume's directory")
        .doesNotContain("token-1");
    assertThat(volumes.resolve("csi-corrupt")).as("skipped, not deleted").exists();
  }

  @Test
  void noStateYetIsNoVolume() throws Exception {
    assertThat(new StateDir(dir.resolve("missing")).loadAll(log)).isEmpty();
  }

  @Test
  void deleteForgetsTheVolumeWithItsLeftovers() throws Exception {
    StateDir state = new StateDir(dir);
    state.save(state("csi-1", "token-1", "2030-01-01T00:00:00Z"));
    Files.writeString(dir.resolve("volumes/csi-1/token.tmp"), "tok");

    state.delete("csi-1");

    assertThat(dir.resolve("volumes/csi-1")).doesNotExist();
    assertThat(state.loadAll(log)).isEmpty();
  }

  @Test
  void aRecordWithoutExpiryHasAnUnknownExpiryNotAnExpiredOne() throws Exception {
    StateDir state = new StateDir(dir);
    VolumeState saved = state("csi-1", "token-1", null);
    state.save(saved);

    VolumeState read = state.loadAll(log).get(0);

    assertThat(read.volume().tokenExpiry()).isEmpty();
    assertThat(read.volume().tokenExpiredAt(Instant.now())).isFalse();
    assertThat(state("csi-2", "t", "2020-01-01T00:00:00Z").volume().tokenExpiredAt(Instant.now()))
        .isTrue();
  }

  @Test
  void thePodsDirectoryIsKnownOnlyInKubeletsLayoutWithTheRecordedUid() throws Exception {
    assertThat(state("csi-1", "t", null).podDir()).contains(Path.of("/var/lib/kubelet/pods/uid-1"));
    for (String target :
        List.of(
            "/var/lib/kubelet/pods/uid-2/volumes/kubernetes.io~csi/secrets/mount",
            "/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~empty-dir/secrets/mount",
            "/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/secrets/data",
            "/var/lib/kubelet/other/uid-1/volumes/kubernetes.io~csi/secrets/mount",
            "/mnt/mount")) {
      VolumeState state =
          new VolumeState("csi-1", Path.of(target), state("csi-1", "t", null).volume());
      assertThat(state.podDir()).as(target).isEmpty();
    }
  }

  private static VolumeState state(String volumeId, String token, String expiry) throws Exception {
    return new VolumeState(
        volumeId,
        Path.of(TARGET),
        PodVolume.resume(
            "shop",
            "orders-1",
            "uid-1",
            "orders",
            token,
            Optional.ofNullable(expiry).map(Instant::parse),
            Map.of("secret.password", "db", "key.password", "password", "file-mode", "0440")));
  }

  private static String mode(Path path) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }

  private static List<String> names(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }
}
