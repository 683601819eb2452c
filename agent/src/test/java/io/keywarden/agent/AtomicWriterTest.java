package io.keywarden.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AtomicWriterTest {

  @TempDir Path dir;

  @Test
  void filesAreReadableThroughTheirLinksWithTheirMode() throws IOException {
    boolean changed =
        new AtomicWriter(dir).write(Map.of("db", bytes("s3cret"), "api.key", bytes("k")), 0440);

    assertThat(changed).isTrue();
    assertThat(Files.readString(dir.resolve("db"))).isEqualTo("s3cret");
    assertThat(Files.readString(dir.resolve("api.key"))).isEqualTo("k");
    assertThat(Files.readSymbolicLink(dir.resolve("db"))).isEqualTo(Path.of("..data", "db"));
    assertThat(dataTarget()).matches("\\.\\.\\d{4}_\\d{2}_\\d{2}_\\d{2}_\\d{2}_\\d{2}\\.\\d{9}");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("db"))))
        .isEqualTo("r--r-----");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("..data"))))
        .isEqualTo("rwxr-xr-x");
  }

  /**
   * A volume of a pod with fsGroup 2000, as kubelet makes it: group 2000, set-group-ID. The files
   * must take that group (the apps have it as a supplementary group), not the agent's own. Changing
   * a file's group to one the process is not in needs root, hence the assumption (CI runs as root).
   */
  @Test
  void filesTakeTheGroupOfASetGroupIdTargetAsOfAnFsGroupVolume() throws IOException {
    assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0, "needs root");
    Files.setAttribute(dir, "unix:gid", 2000);
    Files.setAttribute(dir, "unix:mode", 02777);

    new AtomicWriter(dir).write(Map.of("db", bytes("s3cret")), 0440);
    new AtomicWriter(dir).write(Map.of("db", bytes("rotated")), 0440);

    assertThat(Files.getAttribute(dir.resolve("db"), "unix:gid")).isEqualTo(2000);
    assertThat(Files.getAttribute(dir.resolve("..data"), "unix:gid")).isEqualTo(2000);
    assertThat(Files.getAttribute(dir.resolve("db"), "unix:mode")).isEqualTo(0100440);
  }

  @Test
  void filesKeepTheWritersGroupWhenTheTargetIsNotSetGroupId() throws IOException {
    assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0, "needs root");
    Files.setAttribute(dir, "unix:gid", 2000);
    Files.setAttribute(dir, "unix:mode", 0777);

    new AtomicWriter(dir).write(Map.of("db", bytes("s3cret")), 0440);

    assertThat(Files.getAttribute(dir.resolve("db"), "unix:gid"))
        .isEqualTo(Files.getAttribute(Path.of("/proc/self"), "unix:gid"));
  }

  @Test
  void secondWriteSwapsDataAndRemovesTheOldDirectory() throws IOException {
    AtomicWriter writer = new AtomicWriter(dir);
    writer.write(Map.of("db", bytes("v1")), 0400);
    String first = dataTarget();

    assertThat(writer.write(Map.of("db", bytes("v2")), 0400)).isTrue();

    assertThat(dataTarget()).isNotEqualTo(first);
    assertThat(dir.resolve(first)).doesNotExist();
    assertThat(Files.readString(dir.resolve("db"))).isEqualTo("v2");
    assertThat(entries()).containsExactlyInAnyOrder("..data", dataTarget(), "db");
  }

  @Test
  void removedFileLosesItsLink() throws IOException {
    AtomicWriter writer = new AtomicWriter(dir);
    writer.write(Map.of("a", bytes("1"), "b", bytes("2")), 0400);

    writer.write(Map.of("a", bytes("1")), 0400);

    assertThat(Files.exists(dir.resolve("b"), NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.readString(dir.resolve("a"))).isEqualTo("1");
  }

  @Test
  void unchangedContentAndModeWriteNothing() throws IOException {
    AtomicWriter writer = new AtomicWriter(dir);
    writer.write(Map.of("db", bytes("same")), 0400);
    String first = dataTarget();

    assertThat(writer.write(Map.of("db", bytes("same")), 0400)).isFalse();
    assertThat(dataTarget()).isEqualTo(first);

    assertThat(writer.write(Map.of("db", bytes("same")), 0440))
        .as("a new mode is a change")
        .isTrue();
    assertThat(dataTarget()).isNotEqualTo(first);
  }

  @Test
  void foreignFilesStayAndLinksLeftByAnInterruptedWriteGo() throws IOException {
    Files.writeString(dir.resolve("README"), "not ours");
    Files.createSymbolicLink(dir.resolve("elsewhere"), Path.of("README"));
    Files.createSymbolicLink(dir.resolve("stale"), Path.of("..data", "stale"));

    new AtomicWriter(dir).write(Map.of("db", bytes("x")), 0400);

    assertThat(entries())
        .containsExactlyInAnyOrder("README", "elsewhere", "..data", dataTarget(), "db");
  }

  @Test
  void dataLinkThatThisWriterDidNotMakeIsNeverFollowedForDeletion() throws IOException {
    Path outside = Files.createDirectory(dir.resolve("outside"));
    Files.writeString(outside.resolve("db"), "keep");
    Files.createSymbolicLink(dir.resolve("..data"), outside.toAbsolutePath());

    assertThatThrownBy(() -> new AtomicWriter(dir).write(Map.of("db", bytes("x")), 0400))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not to a directory this writer made");
    assertThat(outside.resolve("db")).hasContent("keep");
  }

  @ParameterizedTest(name = "file name ''{0}''")
  @ValueSource(
      strings = {
        "a/b",
        "../etc",
        "/etc/passwd",
        "..",
        ".",
        "..data",
        "..hidden",
        "",
        "a b",
        "a\nb"
      })
  void nonPlainFileNamesAreRefusedBeforeAnythingIsWritten(String name) {
    assertThatThrownBy(
            () -> new AtomicWriter(dir).write(Map.of("ok", bytes("1"), name, bytes("x")), 0400))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(dir).isEmptyDirectory();
  }

  @ParameterizedTest(name = "mode 0{0}")
  @ValueSource(ints = {04755, 01777, 0044, 0200})
  void modesAboveRwxOrNotOwnerReadableAreRefused(int mode) {
    assertThatThrownBy(() -> new AtomicWriter(dir).write(Map.of("db", bytes("x")), mode))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private String dataTarget() throws IOException {
    return Files.readSymbolicLink(dir.resolve("..data")).toString();
  }

  private List<String> entries() throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(path -> path.getFileName().toString()).toList();
    }
  }

  private static byte[] bytes(String value) {
    return value.getBytes(UTF_8);
  }
}
