package io.keywarden.testcluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** test-cluster/oci-image writes reproducible OCI layouts that containerd and Jib accept. */
class OciImageTest {

  private static final Path TOOL = RepositoryRoot.find().resolve("test-cluster/oci-image");

  @Test
  void sameTreeGivesTheSameBytesWhateverTheFileTimes(@TempDir Path tmp) throws IOException {
    Path rootfs = tree(tmp.resolve("rootfs"));
    Path first = image(rootfs, tmp.resolve("first.tar"), "keywarden.test/x:1");
    Files.setLastModifiedTime(rootfs.resolve("bin/tool"), FileTime.fromMillis(123_000));
    Path second = image(rootfs, tmp.resolve("second.tar"), "keywarden.test/x:1");

    assertThat(Files.readAllBytes(second)).isEqualTo(Files.readAllBytes(first));
  }

  @Test
  void indexNamesTheImageAndTheConfigListsTheLayer(@TempDir Path tmp) throws IOException {
    Path tar = image(tree(tmp.resolve("rootfs")), tmp.resolve("i.tar"), "keywarden.test/x:1.2");
    Map<String, byte[]> entries = untar(tar);

    assertThat(entries).containsKeys("oci-layout", "index.json", "manifest.json");
    KubernetesSerialization json = new KubernetesSerialization();
    Map<?, ?> index = json.unmarshal(text(entries, "index.json"), Map.class);
    Map<?, ?> descriptor = (Map<?, ?>) ((List<?>) index.get("manifests")).get(0);
    @SuppressWarnings("unchecked")
    Map<String, Object> annotations = (Map<String, Object>) descriptor.get("annotations");
    assertThat(annotations)
        .containsEntry("io.containerd.image.name", "keywarden.test/x:1.2")
        .containsEntry("org.opencontainers.image.ref.name", "1.2");
    String manifestDigest = ((String) descriptor.get("digest")).substring(7);
    Map<?, ?> manifest = json.unmarshal(text(entries, "blobs/sha256/" + manifestDigest), Map.class);
    Map<?, ?> layer = (Map<?, ?>) ((List<?>) manifest.get("layers")).get(0);
    String configDigest = (String) ((Map<?, ?>) manifest.get("config")).get("digest");
    Map<?, ?> config =
        json.unmarshal(text(entries, "blobs/sha256/" + configDigest.substring(7)), Map.class);
    assertThat(((Map<?, ?>) config.get("rootfs")).get("diff_ids"))
        .isEqualTo(List.of(layer.get("digest")));
    assertThat(((Map<?, ?>) config.get("config")).get("Cmd")).isEqualTo(List.of("sh"));
  }

  @Test
  void untaggedNameIsRefused(@TempDir Path tmp) throws IOException {
    Path rootfs = tree(tmp.resolve("rootfs"));
    assertThatThrownBy(() -> image(rootfs, tmp.resolve("i.tar"), "keywarden.test/x"))
        .hasMessageContaining("exit code 1");
    assertThat(tmp.resolve("i.tar")).doesNotExist();
  }

  private static Path tree(Path rootfs) throws IOException {
    Files.createDirectories(rootfs.resolve("bin"));
    Files.writeString(rootfs.resolve("bin/tool"), "#!/bin/sh\n");
    Files.createSymbolicLink(rootfs.resolve("bin/sh"), Path.of("tool"));
    return rootfs;
  }

  private static Path image(Path rootfs, Path out, String name) {
    Scripts.run(
        List.of(
            TOOL.toString(),
            "--name",
            name,
            "--cmd",
            "sh",
            "--out",
            out.toString(),
            rootfs.toString()),
        1,
        TimeUnit.MINUTES);
    return out;
  }

  private static String text(Map<String, byte[]> entries, String name) {
    return new String(entries.get(name), StandardCharsets.UTF_8);
  }

  /** Reads a plain (ustar/pax) tar: the tool writes no other kind. */
  private static Map<String, byte[]> untar(Path tar) throws IOException {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    try (InputStream in = Files.newInputStream(tar)) {
      byte[] header = new byte[512];
      while (in.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
        String name = new String(header, 0, 100, StandardCharsets.US_ASCII).replaceAll("\0.*", "");
        String prefix =
            new String(header, 345, 155, StandardCharsets.US_ASCII).replaceAll("\0.*", "");
        long size =
            Long.parseLong(
                new String(header, 124, 12, StandardCharsets.US_ASCII).replaceAll("[\0 ]", ""), 8);
        byte[] data = in.readNBytes((int) size);
        in.skipNBytes((512 - size % 512) % 512);
        char type = (char) header[156];
        if (type == 'x' || type == 'g') {
          continue; // pax headers: the tool's names fit the plain header
        }
        entries.put(prefix.isEmpty() ? name : prefix + "/" + name, data);
      }
    }
    return entries;
  }
}
