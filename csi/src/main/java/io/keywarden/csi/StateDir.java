package io.keywarden.csi;

import io.keywarden.agent.Log;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The plugin's records on the node ({@code KEYWARDEN_CSI_STATE_DIR}): one directory per volume,
 * {@code volumes/<volume-id>/} (0700), holding the pod's {@code token} (0600, read by the agent's
 * client on every request) and {@code volume.json} (0600, a {@link VolumeState} without the token).
 * Every file is replaced whole (a temporary file renamed over it), so a plugin killed at any moment
 * leaves the previous or the next file, never half of one.
 */
final class StateDir {

  static final String TOKEN = "token";
  static final String RECORD = "volume.json";
  private static final String TMP = ".tmp";

  // kubelet's ephemeral volume ids are "csi-" and a SHA-256 in hex; allow any such plain name.
  static final Pattern VOLUME_ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  private final Path volumes;

  StateDir(Path stateDir) {
    this.volumes = stateDir.resolve("volumes");
  }

  /** The token file of a volume, which its pipeline reads. */
  Path tokenFile(String volumeId) {
    return volumes.resolve(volumeId).resolve(TOKEN);
  }

  /** Records a publish or republish: the token first, then the record (its expiry, attributes). */
  void save(VolumeState state) throws IOException {
    Path dir = volumes.resolve(state.volumeId());
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(volumes, PosixFilePermissions.fromString("rwx------"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    // Token before record: a plugin killed between the two keeps the older (earlier) expiry with
    // the newer token, which only makes it wait for kubelet sooner than it had to.
    replace(dir.resolve(TOKEN), state.volume().token());
    replace(dir.resolve(RECORD), state.toJson());
  }

  /**
   * Every readable record. A directory or file that is not one (an unknown name, a record of
   * another version, a corrupt or unreadable file) is logged and skipped, and left in place: it
   * never stops the plugin, and kubelet's unpublish of that volume still deletes it.
   */
  List<VolumeState> loadAll(Log log) throws IOException {
    List<VolumeState> states = new ArrayList<>();
    if (!Files.isDirectory(volumes)) {
      return states;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(volumes)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (!VOLUME_ID.matcher(name).matches() || !Files.isDirectory(entry)) {
          log.warn("state: skipping " + entry + ": not a volume's directory");
          continue;
        }
        try {
          VolumeState state =
              VolumeState.fromJson(
                  Files.readString(entry.resolve(RECORD), StandardCharsets.UTF_8),
                  Files.readString(entry.resolve(TOKEN), StandardCharsets.UTF_8));
          if (!state.volumeId().equals(name)) {
            throw new VolumeState.InvalidStateException(
                "volumeId " + state.volumeId() + " is not its directory's name");
          }
          states.add(state);
        } catch (NoSuchFileException e) {
          log.warn("state: skipping volume " + name + ": no " + e.getFile());
        } catch (IOException | VolumeState.InvalidStateException e) {
          log.warn("state: skipping volume " + name + ": " + RECORD + ": " + e.getMessage());
        }
      }
    }
    return states;
  }

  /** Forgets a volume: its token, its record and their directory. */
  void delete(String volumeId) throws IOException {
    Path dir = volumes.resolve(volumeId);
    for (String file : List.of(TOKEN, TOKEN + TMP, RECORD, RECORD + TMP)) {
      Files.deleteIfExists(dir.resolve(file));
    }
    Files.deleteIfExists(dir);
  }

  /** Writes {@code content} to a new 0600 file and renames it over {@code file}. */
  private static void replace(Path file, String content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + TMP);
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
