package io.keywarden.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OciArchiveTest {

  private static final String NAME = "ghcr.io/keywarden/agent:0.1.0";
  private static final String LONG_NAME =
      "deployments/lib/main/io.quarkiverse.operatorsdk.quarkus-operator-sdk-common-and-then-some-"
          + "more-to-pass-the-ustar-limit-7.7.3.jar";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path temp;

  @Test
  void theSameTreesGiveByteIdenticalArchivesWhateverTheirTimesAndCreationOrder() throws Exception {
    Path first = temp.resolve("first");
    Path second = temp.resolve("second");
    tree(first, false, Instant.parse("2020-01-01T00:00:00Z"));
    tree(second, true, Instant.parse("2026-11-30T05:00:00Z"));

    OciArchive.Written a = OciArchive.write(spec(first), temp.resolve("a.tar"));
    OciArchive.Written b = OciArchive.write(spec(second), temp.resolve("b.tar"));

    assertThat(Files.mismatch(a.archive(), b.archive())).isEqualTo(-1L);
    assertThat(a.manifestDigest()).isEqualTo(b.manifestDigest());
  }

  @Test
  void theArchiveIsAnOciLayoutNamedForContainerdWithADockerSaveManifestBeside() throws Exception {
    Path root = temp.resolve("first");
    tree(root, false, Instant.now());
    OciArchive.Written written = OciArchive.write(spec(root), temp.resolve("image.tar"));

    Map<String, byte[]> files = new LinkedHashMap<>();
    List<String> names = new ArrayList<>();
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(Files.newInputStream(written.archive()))) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        names.add(e.getName());
        assertThat(e.getLongUserId()).as(e.getName()).isZero();
        assertThat(e.getModTime().toInstant()).isEqualTo(LayerTar.FIXED_TIME);
        if (e.isFile()) {
          files.put(e.getName(), tar.readAllBytes());
        }
      }
    }
    assertThat(names).isSorted();
    assertThat(json(files.get("oci-layout")).get("imageLayoutVersion").asText()).isEqualTo("1.0.0");

    JsonNode index = json(files.get("index.json"));
    assertThat(index.get("schemaVersion").asInt()).isEqualTo(2);
    assertThat(index.get("mediaType").asText()).isEqualTo(OciArchive.INDEX_MEDIA_TYPE);
    JsonNode entry = index.get("manifests").get(0);
    assertThat(index.get("manifests")).hasSize(1);
    assertThat(entry.get("annotations").get("io.containerd.image.name").asText()).isEqualTo(NAME);
    assertThat(entry.get("annotations").get("org.opencontainers.image.ref.name").asText())
        .isEqualTo("0.1.0");
    assertThat(entry.get("digest").asText()).isEqualTo(written.manifestDigest());
    byte[] manifestBytes = blob(files, entry);

    JsonNode manifest = json(manifestBytes);
    assertThat(manifest.get("mediaType").asText()).isEqualTo(OciArchive.MANIFEST_MEDIA_TYPE);
    assertThat(manifest.get("config").get("mediaType").asText())
        .isEqualTo(OciArchive.CONFIG_MEDIA_TYPE);
    JsonNode config = json(blob(files, manifest.get("config")));
    List<String> layerDigests = new ArrayList<>();
    for (JsonNode layer : manifest.get("layers")) {
      assertThat(layer.get("mediaType").asText()).isEqualTo(OciArchive.LAYER_MEDIA_TYPE);
      blob(files, layer);
      layerDigests.add(layer.get("digest").asText());
    }
    assertThat(layerDigests).hasSize(2);

    // Uncompressed layers: diff_ids are the layer digests themselves.
    assertThat(config.get("rootfs").get("type").asText()).isEqualTo("layers");
    assertThat(config.get("rootfs").get("diff_ids"))
        .extracting(JsonNode::asText)
        .containsExactlyElementsOf(layerDigests);
    assertThat(config.get("os").asText()).isEqualTo("linux");
    assertThat(config.get("architecture").asText()).isEqualTo("amd64");
    assertThat(config.get("created").asText()).isEqualTo("1970-01-01T00:00:01Z");
    assertThat(config.get("config").get("User").asText()).isEqualTo("65532:65532");
    assertThat(config.get("config").get("Entrypoint"))
        .extracting(JsonNode::asText)
        .containsExactly("/bin/tool", "--flag");
    assertThat(config.get("config").get("Env"))
        .extracting(JsonNode::asText)
        .containsExactly("PATH=/bin");
    assertThat(config.get("history")).hasSize(2);

    JsonNode docker = json(files.get("manifest.json")).get(0);
    assertThat(docker.get("RepoTags")).extracting(JsonNode::asText).containsExactly(NAME);
    assertThat(files).containsKey(docker.get("Config").asText());
    assertThat(docker.get("Layers"))
        .extracting(JsonNode::asText)
        .containsExactlyElementsOf(
            layerDigests.stream().map(d -> "blobs/sha256/" + d.substring(7)).toList());

    assertFirstLayer(blob(files, manifest.get("layers").get(0)));
  }

  private void assertFirstLayer(byte[] layer) throws IOException {
    Map<String, TarArchiveEntry> entries = new LinkedHashMap<>();
    Map<String, String> contents = new LinkedHashMap<>();
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(layer))) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        entries.put(e.getName(), e);
        if (e.isFile() && !e.isSymbolicLink()) {
          contents.put(e.getName(), new String(tar.readAllBytes(), StandardCharsets.UTF_8));
        }
      }
    }
    assertThat(List.copyOf(entries.keySet())).isSorted();
    assertThat(entries.keySet())
        .contains("bin/", "bin/sh", "bin/tool", "etc/", "etc/secret", "tmp/", LONG_NAME);
    for (TarArchiveEntry e : entries.values()) {
      assertThat(e.getLongUserId()).as(e.getName()).isZero();
      assertThat(e.getLongGroupId()).as(e.getName()).isZero();
      assertThat(e.getUserName()).as(e.getName()).isEmpty();
      assertThat(e.getModTime().toInstant()).as(e.getName()).isEqualTo(LayerTar.FIXED_TIME);
    }
    assertThat(entries.get("bin/tool").getMode() & 07777).isEqualTo(0755);
    assertThat(entries.get("etc/secret").getMode() & 07777).isEqualTo(0640);
    assertThat(entries.get("tmp/").getMode() & 07777).isEqualTo(01777);
    assertThat(entries.get("bin/sh").isSymbolicLink()).isTrue();
    assertThat(entries.get("bin/sh").getLinkName()).isEqualTo("tool");
    assertThat(contents.get("bin/tool")).isEqualTo("#!/bin/sh\necho tool\n");
    assertThat(contents.get(LONG_NAME)).isEqualTo("jar");
  }

  @Test
  void badInputNamesTheField() {
    List<Path> layers = List.of(temp);
    ImageConfig config = new ImageConfig(List.of("/bin/sh"), List.of(), "", "");
    assertThatThrownBy(() -> new ImageSpec("ghcr.io/keywarden/agent", layers, config))
        .hasMessageContaining("name: 'ghcr.io/keywarden/agent' is not registry/repository:tag");
    assertThatThrownBy(() -> new ImageSpec(NAME, List.of(), config))
        .hasMessageContaining("layers:");
    assertThatThrownBy(() -> new ImageConfig(List.of("/bin/sh"), List.of(), "nonroot", ""))
        .hasMessageContaining("user: 'nonroot' is not a numeric uid[:gid]");
    assertThatThrownBy(() -> new ImageConfig(List.of("/bin/sh"), List.of("PATH"), "", ""))
        .hasMessageContaining("env: 'PATH' is not NAME=value");
    assertThatThrownBy(() -> new ImageConfig(List.of(), List.of(), "", ""))
        .hasMessageContaining("entrypoint:");
    assertThatThrownBy(() -> BuildImage.parse(new String[] {"--name", NAME, "--layer"}))
        .hasMessageContaining("--layer: a value is missing");
    assertThatThrownBy(() -> BuildImage.parse(new String[] {"--name", NAME, "--size", "1"}))
        .hasMessageContaining("unknown option --size");
  }

  private static ImageSpec spec(Path root) {
    return new ImageSpec(
        NAME,
        List.of(root.resolve("base"), root.resolve("app")),
        new ImageConfig(List.of("/bin/tool", "--flag"), List.of("PATH=/bin"), "65532:65532", ""));
  }

  /** The same content; {@code reversed} creates it in the other order, all dated {@code time}. */
  private static void tree(Path root, boolean reversed, Instant time) throws IOException {
    Path base = root.resolve("base");
    List<Runnable> steps = new ArrayList<>();
    steps.add(() -> write(base.resolve("bin/tool"), "#!/bin/sh\necho tool\n", "rwxr-xr-x"));
    steps.add(() -> write(base.resolve("etc/secret"), "s", "rw-r-----"));
    steps.add(() -> write(base.resolve(LONG_NAME), "jar", "rw-r--r--"));
    steps.add(() -> write(root.resolve("app/opt/app.jar"), "app", "rw-r--r--"));
    if (reversed) {
      java.util.Collections.reverse(steps);
    }
    steps.forEach(Runnable::run);
    Files.createDirectories(base.resolve("tmp"));
    Files.setAttribute(base.resolve("tmp"), "unix:mode", 01777);
    Files.createSymbolicLink(base.resolve("bin/sh"), Path.of("tool"));
    try (var walk = Files.walk(root)) {
      for (Path p : walk.toList()) {
        if (!Files.isSymbolicLink(p)) {
          Files.setLastModifiedTime(p, FileTime.from(time));
        }
      }
    }
  }

  private static void write(Path file, String content, String permissions) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static byte[] blob(Map<String, byte[]> files, JsonNode descriptor) throws Exception {
    String digest = descriptor.get("digest").asText();
    byte[] bytes = files.get("blobs/sha256/" + digest.substring("sha256:".length()));
    assertThat(bytes).as(digest).isNotNull();
    assertThat((long) bytes.length).isEqualTo(descriptor.get("size").asLong());
    String actual =
        "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    assertThat(actual).isEqualTo(digest);
    return bytes;
  }

  private static JsonNode json(byte[] bytes) throws IOException {
    try (InputStream in = new ByteArrayInputStream(bytes)) {
      return JSON.readTree(in);
    }
  }
}
