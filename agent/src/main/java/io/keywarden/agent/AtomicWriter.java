package io.keywarden.agent;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Replaces the complete set of files in a directory at once, the way kubelet's AtomicWriter
 * (pkg/volume/util/atomic_writer.go) updates Secret volumes, so a reader never sees half of a
 * change:
 *
 * <pre>
 * target/..2026_11_29_03_00_00.123456789/  the files of one write
 * target/..data -> ..2026_11_29_03_00_00.123456789
 * target/db     -> ..data/db
 * </pre>
 *
 * A new write fills a new timestamped directory and swaps {@code ..data} with one rename(2). One
 * writer per directory; if a write fails, the previous files stay in place.
 */
public final class AtomicWriter {

  private static final String DATA_DIR = "..data";
  private static final String DATA_DIR_TMP = "..data_tmp";
  // Names starting with ".." are the writer's own, as in kubelet.
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,253}");
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("'..'yyyy_MM_dd_HH_mm_ss.nnnnnnnnn").withZone(ZoneOffset.UTC);
  private static final Set<PosixFilePermission> PRIVATE_DIR =
      PosixFilePermissions.fromString("rwx------");
  // Readers run as other users in other containers and must traverse the directory.
  private static final Set<PosixFilePermission> SHARED_DIR =
      PosixFilePermissions.fromString("rwxr-xr-x");

  private static final int SET_GROUP_ID = 02000;

  private final Path targetDir;

  public AtomicWriter(Path targetDir) {
    this.targetDir = targetDir;
  }

  /**
   * Makes {@code files} (plain names to contents) the complete content of the target directory,
   * each file with POSIX {@code mode} (at most 0777, owner-readable).
   *
   * @return whether anything changed; false when the current files already have these contents and
   *     mode
   */
  public boolean write(Map<String, byte[]> files, int mode) throws IOException {
    files.keySet().forEach(AtomicWriter::checkFileName);
    Set<PosixFilePermission> permissions = permissions(mode);
    Path dataLink = targetDir.resolve(DATA_DIR);
    Path oldDir = Files.isSymbolicLink(dataLink) ? currentDir(dataLink) : null;

    if (oldDir != null && sameContent(oldDir, files, permissions)) {
      syncVisibleLinks(files.keySet());
      return false;
    }
    Path newDir = fillNewDir(files, permissions);
    Path tmpLink = targetDir.resolve(DATA_DIR_TMP);
    Files.deleteIfExists(tmpLink);
    Files.createSymbolicLink(tmpLink, newDir.getFileName());
    // rename(2) replaces ..data in one step: readers resolve either the old or the new directory.
    Files.move(tmpLink, dataLink, StandardCopyOption.ATOMIC_MOVE);

    syncVisibleLinks(files.keySet());
    if (oldDir != null) {
      deleteDir(oldDir);
    }
    return true;
  }

  private Path fillNewDir(Map<String, byte[]> files, Set<PosixFilePermission> permissions)
      throws IOException {
    Optional<Integer> group = volumeGroup();
    Path dir = createTimestampDir();
    try {
      if (group.isPresent()) {
        Files.setAttribute(dir, "unix:gid", group.get(), NOFOLLOW_LINKS);
      }
      for (Map.Entry<String, byte[]> file : files.entrySet()) {
        Path path = dir.resolve(file.getKey());
        Files.write(path, file.getValue(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        if (group.isPresent()) {
          Files.setAttribute(path, "unix:gid", group.get(), NOFOLLOW_LINKS);
        }
        Files.setPosixFilePermissions(path, permissions);
      }
      // Private until complete, so nobody reads a half-written directory through its own name.
      Files.setPosixFilePermissions(dir, SHARED_DIR);
      return dir;
    } catch (IOException | RuntimeException e) {
      deleteDir(dir);
      throw e;
    }
  }

  /**
   * The group the files must have: the target directory's, when that is set-group-ID, as kubelet
   * makes a volume of a pod with an {@code fsGroup}, so that every container, which has that group
   * as a supplementary one, reads group-readable files. The timestamped directory inherits the bit,
   * but making it private while it is filled (chmod 0700) clears the bit again, and the files would
   * take the agent's own group (seen on a real node: {@code 0440 65532:65532}, unreadable for the
   * app): so the group is set explicitly. Empty when the bit is not set, or the file system has no
   * POSIX modes.
   */
  private Optional<Integer> volumeGroup() throws IOException {
    int mode;
    try {
      mode = (Integer) Files.getAttribute(targetDir, "unix:mode");
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return Optional.empty();
    }
    if ((mode & SET_GROUP_ID) == 0) {
      return Optional.empty();
    }
    return Optional.of((Integer) Files.getAttribute(targetDir, "unix:gid"));
  }

  private Path createTimestampDir() throws IOException {
    Instant now = Instant.now();
    while (true) {
      try {
        Path dir =
            Files.createDirectory(
                targetDir.resolve(TIMESTAMP.format(now)),
                PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
        Files.setPosixFilePermissions(dir, PRIVATE_DIR);
        return dir;
      } catch (FileAlreadyExistsException e) {
        // The clock may tick slower than we write; the name only has to be new and ordered.
        now = now.plusNanos(1);
      }
    }
  }

  // Only a directory this writer made may be read as the current one and later deleted.
  private Path currentDir(Path dataLink) throws IOException {
    Path target = Files.readSymbolicLink(dataLink);
    if (target.isAbsolute()
        || target.getNameCount() != 1
        || !target.toString().startsWith("..")
        || target.toString().startsWith(DATA_DIR)) {
      throw new IOException(
          dataLink + " points to " + target + ", not to a directory this writer made");
    }
    return targetDir.resolve(target);
  }

  /**
   * Links each name to {@code ..data/<name>} and removes our links to names no longer written;
   * looks at the whole directory rather than the previous write so that links left by an
   * interrupted write go too.
   */
  private void syncVisibleLinks(Set<String> names) throws IOException {
    for (String name : names) {
      Path link = targetDir.resolve(name);
      if (!Files.exists(link, NOFOLLOW_LINKS)) {
        Files.createSymbolicLink(link, Path.of(DATA_DIR, name));
      }
    }
    for (String name : listFiles(targetDir)) {
      Path link = targetDir.resolve(name);
      if (!names.contains(name)
          && Files.isSymbolicLink(link)
          && Files.readSymbolicLink(link).equals(Path.of(DATA_DIR, name))) {
        Files.delete(link);
      }
    }
  }

  private static boolean sameContent(
      Path dir, Map<String, byte[]> files, Set<PosixFilePermission> permissions)
      throws IOException {
    if (!listFiles(dir).equals(files.keySet())) {
      return false;
    }
    for (Map.Entry<String, byte[]> file : files.entrySet()) {
      Path path = dir.resolve(file.getKey());
      if (!Files.getPosixFilePermissions(path, NOFOLLOW_LINKS).equals(permissions)
          || !Arrays.equals(Files.readAllBytes(path), file.getValue())) {
        return false;
      }
    }
    return true;
  }

  private static Set<String> listFiles(Path dir) throws IOException {
    Set<String> names = new HashSet<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      entries.forEach(entry -> names.add(entry.getFileName().toString()));
    }
    return names;
  }

  // The writer only ever creates flat directories of regular files.
  private static void deleteDir(Path dir) throws IOException {
    for (String name : listFiles(dir)) {
      Files.delete(dir.resolve(name));
    }
    Files.delete(dir);
  }

  /**
   * Refuses anything but a plain file name: no '/', not '.', not starting with '..' (the writer's
   * own names).
   */
  static void checkFileName(String name) {
    if (!FILE_NAME.matcher(name).matches() || name.equals(".") || name.startsWith("..")) {
      throw new IllegalArgumentException(
          "file name must be a plain name (no '/', not '.', not starting with '..'): " + name);
    }
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    if ((mode & ~0777) != 0 || (mode & 0400) == 0) {
      throw new IllegalArgumentException(
          "file mode must be at most 0777 and owner-readable: 0" + Integer.toOctalString(mode));
    }
    Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
    // PosixFilePermission lists OWNER_READ (bit 0400) first and OTHERS_EXECUTE (bit 0001) last.
    for (PosixFilePermission permission : PosixFilePermission.values()) {
      if ((mode & (0400 >> permission.ordinal())) != 0) {
        permissions.add(permission);
      }
    }
    return permissions;
  }
}
