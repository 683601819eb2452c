package io.keywarden.testcluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * test-cluster/oci-image, the repository's one image tool (the node's pause and busybox images, and
 * images/bin/build-images' operator, injector and agent images), writes reproducible OCI layouts
 * that containerd and Jib accept.
 */
class OciImageTest {

  private static final Path TOOL = RepositoryRoot.find().resolve("test-cluster/oci-image");
  private static final String NAME = "ghcr.io/keywarden/agent:0.1.0";
  private static final String LONG_NAME =
      "deployments/lib/main/" + "a-rather-long-library-name-".repeat(5) + "1.0.jar";
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  @Test
  void sameTreesGiveByteIdenticalArchivesWhateverTheirTimesAndCreationOrder(@TempDir Path tmp)
      throws Exception {
    Path first =
        image(
            tmp.resolve("first.tar"),
            base(tmp.resolve("a/base"), false),
            app(tmp.resolve("a/app")));
    Path second =
        image(
            tmp.resolve("second.tar"),
            base(tmp.resolve("b/base"), true),
            app(tmp.resolve("b/app")));
    Files.setLastModifiedTime(tmp.resolve("b/base/bin/tool"), FileTime.fromMillis(123_000));

    Path third = image(tmp.resolve("third.tar"), tmp.resolve("b/base"), tmp.resolve("b/app"));

    assertThat(Files.mismatch(first, second)).isEqualTo(-1L);
    assertThat(Files.mismatch(first, third)).isEqualTo(-1L);
  }

  @Test
  void theArchiveIsAnOciLayoutNamedForContainerdWithADockerSaveManifestBeside(@TempDir Path tmp)
      throws Exception {
    Path tar =
        image(tmp.resolve("i.tar"), base(tmp.resolve("base"), false), app(tmp.resolve("app")));
    List<Entry> top = untar(Files.readAllBytes(tar));
    Map<String, byte[]> files = contents(top);

    assertThat(top).extracting(Entry::name).isSorted();
    for (Entry e : top) {
      assertThat(e.uid()).as(e.name()).isZero();
      assertThat(e.mtime()).as(e.name()).isEqualTo(fixedMtime());
    }
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      if (f.getKey().startsWith("blobs/sha256/")) {
        assertThat(sha256(f.getValue())).as(f.getKey()).isEqualTo(f.getKey().substring(13));
      }
    }
    assertThat(json(files, "oci-layout").get("imageLayoutVersion")).isEqualTo("1.0.0");
    Map<?, ?> index = json(files, "index.json");
    assertThat(index.get("schemaVersion")).isEqualTo(2);
    assertThat(index.get("mediaType")).isEqualTo("application/vnd.oci.image.index.v1+json");
    List<?> manifests = (List<?>) index.get("manifests");
    assertThat(manifests).hasSize(1);
    Map<?, ?> entry = (Map<?, ?>) manifests.get(0);
    assertThat(map(entry.get("annotations")))
        .containsEntry("io.containerd.image.name", NAME)
        .containsEntry("org.opencontainers.image.ref.name", "0.1.0");

    Map<?, ?> manifest = json(files, blobPath(entry));
    assertThat(manifest.get("mediaType")).isEqualTo("application/vnd.oci.image.manifest.v1+json");
    Map<?, ?> configDescriptor = (Map<?, ?>) manifest.get("config");
    assertThat(configDescriptor.get("mediaType"))
        .isEqualTo("application/vnd.oci.image.config.v1+json");
    List<String> layerDigests = new ArrayList<>();
    for (Object layer : (List<?>) manifest.get("layers")) {
      Map<?, ?> descriptor = (Map<?, ?>) layer;
      assertThat(descriptor.get("mediaType")).isEqualTo("application/vnd.oci.image.layer.v1.tar");
      assertThat(((Number) descriptor.get("size")).longValue())
          .isEqualTo(files.get(blobPath(descriptor)).length);
      layerDigests.add((String) descriptor.get("digest"));
    }
    assertThat(layerDigests).hasSize(2);

    Map<?, ?> config = json(files, blobPath(configDescriptor));
    assertThat(map(config.get("rootfs")))
        .containsEntry("type", "layers")
        .containsEntry("diff_ids", layerDigests);
    assertThat(config.get("os")).isEqualTo("linux");
    assertThat(config.get("architecture")).isEqualTo("amd64");
    assertThat(config.get("created")).isEqualTo("1970-01-01T00:00:01Z");
    assertThat((List<?>) config.get("history")).hasSize(2);
    assertThat(map(config.get("config")))
        .containsEntry("User", "65532:65532")
        .containsEntry("WorkingDir", "/deployments")
        .containsEntry("Entrypoint", List.of("sh", "-c", "exec java -jar /deployments/app.jar"))
        .containsEntry("Cmd", List.of("--verbose"))
        .containsEntry("Env", List.of("PATH=/bin", "JAVA_OPTS=-Da=b"))
        .containsEntry("Labels", Map.of("org.opencontainers.image.source", "keywarden"));

    List<?> docker = JSON.unmarshal(text(files, "manifest.json"), List.class);
    Map<?, ?> save = (Map<?, ?>) docker.get(0);
    assertThat(save.get("RepoTags")).isEqualTo(List.of(NAME));
    assertThat(files).containsKey((String) save.get("Config"));
    assertThat(save.get("Layers"))
        .isEqualTo(layerDigests.stream().map(d -> "blobs/sha256/" + d.substring(7)).toList());

    assertBaseLayer(files.get("blobs/sha256/" + layerDigests.get(0).substring(7)));
    List<Entry> app = untar(files.get("blobs/sha256/" + layerDigests.get(1).substring(7)));
    assertThat(contents(app)).containsKey(LONG_NAME);
  }

  /** Owners, times and host order are gone; modes, sticky bits and symbolic links stay. */
  private static void assertBaseLayer(byte[] layer) throws IOException {
    List<Entry> entries = untar(layer);
    Map<String, Entry> byName = new LinkedHashMap<>();
    entries.forEach(e -> byName.put(e.name(), e));

    assertThat(entries).extracting(Entry::name).isSorted();
    assertThat(byName.keySet())
        .containsExactly("bin/", "bin/hard", "bin/sh", "bin/tool", "etc/", "etc/secret", "tmp/");
    for (Entry e : entries) {
      assertThat(e.uid()).as(e.name()).isZero();
      assertThat(e.gid()).as(e.name()).isZero();
      assertThat(e.uname()).as(e.name()).isEmpty();
      assertThat(e.gname()).as(e.name()).isEmpty();
      assertThat(e.mtime()).as(e.name()).isEqualTo(fixedMtime());
      assertThat(e.pax()).as("no PAX headers where ustar suffices: " + e.name()).isEmpty();
    }
    assertThat(byName.get("bin/tool").mode()).isEqualTo(0755);
    assertThat(byName.get("etc/secret").mode()).isEqualTo(0640);
    assertThat(byName.get("tmp/").mode()).isEqualTo(01777);
    assertThat(byName.get("tmp/").type()).isEqualTo('5');
    assertThat(byName.get("bin/sh").type()).isEqualTo('2');
    assertThat(byName.get("bin/sh").linkName()).isEqualTo("tool");
    // A hard link is written as a plain file: a layer must not point at an entry of another layer.
    assertThat(byName.get("bin/hard").type()).isEqualTo('0');
    assertThat(new String(byName.get("bin/hard").data(), StandardCharsets.UTF_8))
        .isEqualTo("#!/bin/sh\necho tool\n");
    assertThat(new String(byName.get("bin/tool").data(), StandardCharsets.UTF_8))
        .isEqualTo("#!/bin/sh\necho tool\n");
  }

  @Test
  void aLongNameGetsAPaxPathAndNothingElse(@TempDir Path tmp) throws Exception {
    Path tar =
        image(tmp.resolve("i.tar"), base(tmp.resolve("base"), false), app(tmp.resolve("app")));
    Map<String, byte[]> files = contents(untar(Files.readAllBytes(tar)));
    Map<?, ?> index = json(files, "index.json");
    Map<?, ?> manifest =
        json(files, blobPath((Map<?, ?>) ((List<?>) index.get("manifests")).get(0)));
    Map<?, ?> appLayer = (Map<?, ?>) ((List<?>) manifest.get("layers")).get(1);

    Entry jar =
        untar(files.get(blobPath(appLayer))).stream()
            .filter(e -> e.name().equals(LONG_NAME))
            .findFirst()
            .orElseThrow();

    assertThat(jar.pax()).containsOnlyKeys("path");
    assertThat(new String(jar.data(), StandardCharsets.UTF_8)).isEqualTo("jar");
  }

  @Test
  void imagesThatShareALayerShareItsDigest(@TempDir Path tmp) throws Exception {
    Path base = base(tmp.resolve("base"), false);
    Path agent = Files.createDirectories(tmp.resolve("agent/opt"));
    Files.writeString(agent.resolve("agent.jar"), "agent");
    Path operator = Files.createDirectories(tmp.resolve("operator/deployments"));
    Files.writeString(operator.resolve("quarkus-run.jar"), "operator");

    List<String> agentLayers =
        layerDigests(image(tmp.resolve("agent.tar"), base, agent.getParent()));
    List<String> operatorLayers =
        layerDigests(image(tmp.resolve("operator.tar"), base, operator.getParent()));

    assertThat(agentLayers).hasSize(2);
    assertThat(operatorLayers).hasSize(2);
    assertThat(agentLayers.get(0)).isEqualTo(operatorLayers.get(0));
    assertThat(agentLayers.get(1)).isNotEqualTo(operatorLayers.get(1));
  }

  @Test
  void theLayerTimeIsTheOneBuildImagesDatesTheAgentJarWith(@TempDir Path tmp) throws Exception {
    // images/bin/build-images reads the tool's FIXED_MTIME line to date the agent's jar before its
    // AppCDS archive is made; the JVM refuses the archive if the jar in the image is dated
    // otherwise.
    String buildImages = Files.readString(RepositoryRoot.find().resolve("images/bin/build-images"));
    assertThat(buildImages).contains("FIXED_MTIME").contains("touch -d \"@$fixed_mtime\"");
    Path tar =
        image(tmp.resolve("i.tar"), base(tmp.resolve("base"), false), app(tmp.resolve("app")));
    Map<String, byte[]> files = contents(untar(Files.readAllBytes(tar)));
    for (String layer : layerDigests(tar)) {
      for (Entry e : untar(files.get("blobs/sha256/" + layer.substring(7)))) {
        assertThat(e.mtime()).as(e.name()).isEqualTo(fixedMtime());
      }
    }
    assertThat(fixedMtime()).isPositive();
  }

  @Test
  void badInputIsRefusedWithAMessageNamingTheField(@TempDir Path tmp) throws Exception {
    Path base = base(tmp.resolve("base"), false);
    Path out = tmp.resolve("bad.tar");

    assertThat(refused(out, "--name", "ghcr.io/keywarden/agent", base.toString()))
        .contains("--name: 'ghcr.io/keywarden/agent' needs a tag");
    assertThat(refused(out, "--name", "ghcr.io/Keywarden/agent:1", base.toString()))
        .contains("--name: 'ghcr.io/Keywarden/agent:1' is not registry/repository:tag");
    assertThat(refused(out, "--name", NAME, tmp.resolve("missing").toString()))
        .contains("layer " + tmp.resolve("missing") + " is not a directory");
    assertThat(refused(out, "--name", NAME, "--env", "JAVA_OPTS", base.toString()))
        .contains("--env: 'JAVA_OPTS' is not NAME=value");
    assertThat(refused(out, "--name", NAME, "--label", "=x", base.toString()))
        .contains("--label: '=x' is not NAME=value");
    assertThat(refused(out, "--name", NAME)).contains("LAYER_DIR");
    assertThat(out).doesNotExist();
  }

  private static String refused(Path out, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(TOOL.toString(), "--out", out.toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(1, TimeUnit.MINUTES)).isTrue();
    assertThat(process.exitValue()).as(output).isNotZero();
    return output;
  }

  /**
   * A base layer; {@code reversed} creates its entries in the other order (the file system then
   * lists them otherwise) and dates them differently.
   */
  private static Path base(Path root, boolean reversed) throws Exception {
    Files.createDirectories(root);
    List<String> dirs = reversed ? List.of("tmp", "etc", "bin") : List.of("bin", "etc", "tmp");
    for (String dir : dirs) {
      Files.createDirectories(root.resolve(dir));
    }
    Files.writeString(root.resolve("etc/secret"), "s");
    Files.writeString(root.resolve("bin/tool"), "#!/bin/sh\necho tool\n");
    Files.createSymbolicLink(root.resolve("bin/sh"), Path.of("tool"));
    Files.createLink(root.resolve("bin/hard"), root.resolve("bin/tool"));
    chmod("0755", root.resolve("bin/tool"));
    chmod("0640", root.resolve("etc/secret"));
    chmod("1777", root.resolve("tmp"));
    if (reversed) {
      Files.setLastModifiedTime(root.resolve("etc/secret"), FileTime.fromMillis(987_000));
    }
    return root;
  }

  private static Path app(Path root) throws IOException {
    Path jar = root.resolve(LONG_NAME);
    Files.createDirectories(jar.getParent());
    Files.writeString(jar, "jar");
    return root;
  }

  private static void chmod(String mode, Path path) throws Exception {
    Process chmod = new ProcessBuilder("chmod", mode, path.toString()).inheritIO().start();
    assertThat(chmod.waitFor()).isZero();
  }

  private static Path image(Path out, Path... layers) {
    List<String> command =
        new ArrayList<>(
            List.of(
                TOOL.toString(),
                "--name",
                NAME,
                "--out",
                out.toString(),
                "--user",
                "65532:65532",
                "--workdir",
                "/deployments",
                "--entrypoint",
                "sh",
                "--entrypoint=-c",
                "--entrypoint",
                "exec java -jar /deployments/app.jar",
                "--cmd=--verbose",
                "--env",
                "PATH=/bin",
                "--env",
                "JAVA_OPTS=-Da=b",
                "--label",
                "org.opencontainers.image.source=keywarden"));
    for (Path layer : layers) {
      command.add(layer.toString());
    }
    Scripts.run(command, 1, TimeUnit.MINUTES);
    return out;
  }

  private static List<String> layerDigests(Path tar) throws IOException {
    Map<String, byte[]> files = contents(untar(Files.readAllBytes(tar)));
    Map<?, ?> index = json(files, "index.json");
    Map<?, ?> manifest =
        json(files, blobPath((Map<?, ?>) ((List<?>) index.get("manifests")).get(0)));
    return ((List<?>) manifest.get("layers"))
        .stream().map(l -> (String) ((Map<?, ?>) l).get("digest")).toList();
  }

  private static long fixedMtime() throws IOException {
    Matcher m = Pattern.compile("(?m)^FIXED_MTIME = ([0-9]+)$").matcher(Files.readString(TOOL));
    assertThat(m.find()).as("a FIXED_MTIME line in " + TOOL).isTrue();
    return Long.parseLong(m.group(1));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }

  private static String blobPath(Map<?, ?> descriptor) {
    return "blobs/sha256/" + ((String) descriptor.get("digest")).substring(7);
  }

  private static Map<?, ?> json(Map<String, byte[]> files, String name) {
    return JSON.unmarshal(text(files, name), Map.class);
  }

  private static String text(Map<String, byte[]> files, String name) {
    assertThat(files).containsKey(name);
    return new String(files.get(name), StandardCharsets.UTF_8);
  }

  private static String sha256(byte[] data) throws NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  private static Map<String, byte[]> contents(List<Entry> entries) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    entries.forEach(e -> files.put(e.name(), e.data()));
    return files;
  }

  /** One tar entry as written, with the PAX records that preceded it. */
  record Entry(
      String name,
      char type,
      int mode,
      long uid,
      long gid,
      String uname,
      String gname,
      long mtime,
      String linkName,
      Map<String, String> pax,
      byte[] data) {}

  /**
   * Reads a ustar/PAX tar header by header (the tool writes no other kind), keeping what a library
   * would hide: whether a PAX header was written at all.
   */
  private static List<Entry> untar(byte[] tar) throws IOException {
    List<Entry> entries = new ArrayList<>();
    Map<String, String> pax = new LinkedHashMap<>();
    try (InputStream in = new java.io.ByteArrayInputStream(tar)) {
      byte[] header = new byte[512];
      while (in.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
        long size = octal(header, 124, 12);
        byte[] data = in.readNBytes((int) size);
        in.skipNBytes((512 - size % 512) % 512);
        char type = (char) header[156];
        if (type == 'x') {
          pax.putAll(paxRecords(data));
          continue;
        }
        assertThat(type).as("no global PAX headers").isNotEqualTo('g');
        String prefix = field(header, 345, 155);
        String name =
            pax.getOrDefault(
                "path",
                prefix.isEmpty() ? field(header, 0, 100) : prefix + "/" + field(header, 0, 100));
        entries.add(
            new Entry(
                name,
                type,
                (int) octal(header, 100, 8),
                octal(header, 108, 8),
                octal(header, 116, 8),
                field(header, 265, 32),
                field(header, 297, 32),
                octal(header, 136, 12),
                pax.getOrDefault("linkpath", field(header, 157, 100)),
                Map.copyOf(pax),
                data));
        pax.clear();
      }
    }
    return entries;
  }

  private static Map<String, String> paxRecords(byte[] data) {
    Map<String, String> records = new LinkedHashMap<>();
    String text = new String(data, StandardCharsets.UTF_8);
    int at = 0;
    while (at < text.length()) {
      int space = text.indexOf(' ', at);
      int length = Integer.parseInt(text.substring(at, space));
      String record = text.substring(space + 1, at + length - 1);
      int equals = record.indexOf('=');
      records.put(record.substring(0, equals), record.substring(equals + 1));
      at += length;
    }
    return records;
  }

  private static String field(byte[] header, int offset, int length) {
    return new String(header, offset, length, StandardCharsets.UTF_8).replaceAll("\0.*", "");
  }

  private static long octal(byte[] header, int offset, int length) {
    String digits = field(header, offset, length).trim();
    return digits.isEmpty() ? 0 : Long.parseLong(digits, 8);
  }
}
