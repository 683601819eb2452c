package io.keywarden.images;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes one image as an OCI image layout in a tar (OCI image spec, image-layout.md), the form
 * {@code ctr images import} reads: {@code oci-layout}, {@code index.json} whose one manifest is
 * annotated with {@code io.containerd.image.name} (the name containerd stores it under) and {@code
 * org.opencontainers.image.ref.name} (the tag), and the blobs under {@code blobs/sha256/}. Layers
 * are uncompressed, so a layer's digest is its diff_id. A docker-save {@code manifest.json} beside
 * them makes the same tar loadable with {@code docker load} and usable as a Jib {@code tar://}
 * base.
 *
 * <p>Reproducible: the same spec and trees give byte-identical archives (sorted entries, fixed
 * owners and times, JSON with a fixed key order, no timestamps of the build).
 */
public final class OciArchive {

  static final String LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar";
  static final String CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";
  static final String MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
  static final String INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";
  static final String CONTAINERD_NAME = "io.containerd.image.name";
  static final String OCI_REF_NAME = "org.opencontainers.image.ref.name";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A content-addressed blob in the archive: {@code blobs/sha256/<hex>}. */
  public record Blob(String digest, long size, Path file) {
    String path() {
      return "blobs/sha256/" + digest.substring("sha256:".length());
    }
  }

  /** What was written: the manifest's digest names the image in containerd. */
  public record Written(Path archive, String manifestDigest, List<Blob> layers, long archiveSize) {}

  private OciArchive() {}

  /** Writes {@code spec} to {@code output} (replaced if it exists). */
  public static Written write(ImageSpec spec, Path output) throws IOException {
    Path work = Files.createTempDirectory(output.toAbsolutePath().getParent(), ".oci-archive-");
    try {
      List<Blob> layers = new ArrayList<>();
      for (Path layer : spec.layers()) {
        layers.add(layerBlob(layer, work));
      }
      Blob config = jsonBlob(configJson(spec, layers), work);
      Blob manifest = jsonBlob(manifestJson(config, layers), work);
      Map<String, Blob> blobs = new TreeMap<>(); // by path: sorted and each blob once
      for (Blob blob : layers) {
        blobs.put(blob.path(), blob);
      }
      blobs.put(config.path(), config);
      blobs.put(manifest.path(), manifest);

      Path partial = work.resolve("archive.tar");
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(partial), 1 << 16)) {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
        directory(tar, "blobs/");
        directory(tar, "blobs/sha256/");
        for (Blob blob : blobs.values()) {
          file(tar, blob.path(), blob.file());
        }
        file(tar, "index.json", bytes(indexJson(spec, manifest)));
        file(tar, "manifest.json", bytes(dockerManifestJson(spec, config, layers)));
        file(tar, "oci-layout", bytes(Map.of("imageLayoutVersion", "1.0.0")));
        tar.finish();
      }
      Files.move(partial, output, StandardCopyOption.REPLACE_EXISTING);
      List<Blob> written = layers.stream().map(b -> new Blob(b.digest(), b.size(), null)).toList();
      return new Written(output, manifest.digest(), written, Files.size(output));
    } finally {
      deleteTree(work);
    }
  }

  private static Blob layerBlob(Path layer, Path work) throws IOException {
    Path file = Files.createTempFile(work, "layer-", ".tar");
    MessageDigest sha256 = sha256();
    try (OutputStream out =
        new DigestOutputStream(
            new BufferedOutputStream(Files.newOutputStream(file), 1 << 16), sha256)) {
      LayerTar.write(layer, out);
    }
    return new Blob(digest(sha256), Files.size(file), file);
  }

  private static Blob jsonBlob(Map<String, Object> json, Path work) throws IOException {
    byte[] bytes = bytes(json);
    Path file = Files.createTempFile(work, "json-", ".json");
    Files.write(file, bytes);
    MessageDigest sha256 = sha256();
    sha256.update(bytes);
    return new Blob(digest(sha256), bytes.length, file);
  }

  // OCI image spec config.md; "created" and every history entry are fixed, not the build's time.
  private static Map<String, Object> configJson(ImageSpec spec, List<Blob> layers) {
    ImageConfig c = spec.config();
    Map<String, Object> config = new LinkedHashMap<>();
    if (!c.user().isEmpty()) {
      config.put("User", c.user());
    }
    config.put("Env", c.env());
    config.put("Entrypoint", c.entrypoint());
    if (!c.workingDir().isEmpty()) {
      config.put("WorkingDir", c.workingDir());
    }
    Map<String, Object> rootfs = new LinkedHashMap<>();
    rootfs.put("type", "layers");
    rootfs.put("diff_ids", layers.stream().map(Blob::digest).toList());
    List<Map<String, Object>> history = new ArrayList<>();
    for (Path layer : spec.layers()) {
      history.add(
          ordered("created", LayerTar.FIXED_TIME.toString(), "created_by", layerName(layer)));
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("created", LayerTar.FIXED_TIME.toString());
    json.put("architecture", "amd64");
    json.put("os", "linux");
    json.put("config", config);
    json.put("rootfs", rootfs);
    json.put("history", history);
    return json;
  }

  private static String layerName(Path layer) {
    Path name = layer.toAbsolutePath().normalize().getFileName();
    return "keywarden-images: layer " + (name == null ? "/" : name);
  }

  private static Map<String, Object> manifestJson(Blob config, List<Blob> layers) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("schemaVersion", 2);
    json.put("mediaType", MANIFEST_MEDIA_TYPE);
    json.put("config", descriptor(CONFIG_MEDIA_TYPE, config));
    json.put("layers", layers.stream().map(l -> descriptor(LAYER_MEDIA_TYPE, l)).toList());
    return json;
  }

  private static Map<String, Object> indexJson(ImageSpec spec, Blob manifest) {
    Map<String, Object> entry = descriptor(MANIFEST_MEDIA_TYPE, manifest);
    entry.put("annotations", ordered(CONTAINERD_NAME, spec.name(), OCI_REF_NAME, spec.tag()));
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("schemaVersion", 2);
    json.put("mediaType", INDEX_MEDIA_TYPE);
    json.put("manifests", List.of(entry));
    return json;
  }

  // docker save's format (moby image/tarexport): paths of the config and layer tars, and the tags.
  private static List<Map<String, Object>> dockerManifestJson(
      ImageSpec spec, Blob config, List<Blob> layers) {
    return List.of(
        ordered(
            "Config", config.path(),
            "RepoTags", List.of(spec.name()),
            "Layers", layers.stream().map(Blob::path).toList()));
  }

  private static Map<String, Object> descriptor(String mediaType, Blob blob) {
    return ordered("mediaType", mediaType, "digest", blob.digest(), "size", blob.size());
  }

  private static Map<String, Object> ordered(Object... keysAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  private static byte[] bytes(Object json) throws IOException {
    return JSON.writeValueAsString(json).getBytes(StandardCharsets.UTF_8);
  }

  private static void directory(TarArchiveOutputStream tar, String name) throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry(name, TarConstants.LF_DIR);
    put(tar, entry, 0755);
    tar.closeArchiveEntry();
  }

  private static void file(TarArchiveOutputStream tar, String name, Path file) throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
    entry.setSize(Files.size(file));
    put(tar, entry, 0644);
    try (InputStream in = Files.newInputStream(file)) {
      in.transferTo(tar);
    }
    tar.closeArchiveEntry();
  }

  private static void file(TarArchiveOutputStream tar, String name, byte[] content)
      throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
    entry.setSize(content.length);
    put(tar, entry, 0644);
    tar.write(content);
    tar.closeArchiveEntry();
  }

  private static void put(TarArchiveOutputStream tar, TarArchiveEntry entry, int mode)
      throws IOException {
    entry.setMode(mode);
    entry.setIds(0, 0);
    entry.setUserName("");
    entry.setGroupName("");
    entry.setModTime(FileTime.from(LayerTar.FIXED_TIME));
    tar.putArchiveEntry(entry);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static String digest(MessageDigest sha256) {
    return "sha256:" + HexFormat.of().formatHex(sha256.digest());
  }

  private static void deleteTree(Path root) throws IOException {
    try (var walk = Files.walk(root)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
