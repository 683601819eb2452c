package io.keywarden.images;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes a directory tree as an uncompressed, reproducible layer tar: the same tree gives the same
 * bytes whatever the files' times, owners or the order the file system lists them in.
 *
 * <p>Every entry is owned by root (0:0, no user or group names) and dated {@link #FIXED_TIME};
 * entries are sorted by path, so parents come before their children; permission bits, including
 * set-id and sticky bits (/tmp is 1777), are kept; symbolic links stay links (busybox applets, the
 * dynamic loader); hard links become regular files. Names longer than ustar allows use PAX headers,
 * which containerd reads.
 */
public final class LayerTar {

  /**
   * The time of every entry and of the image config: one second after the epoch, as Jib does,
   * because some tools read a zero time as "unset".
   */
  public static final Instant FIXED_TIME = Instant.ofEpochSecond(1);

  private LayerTar() {}

  /** Writes the tree under {@code root} (not {@code root} itself) to {@code out}. */
  public static void write(Path root, OutputStream out) throws IOException {
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException("layer " + root + " is not a directory");
    }
    TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    tar.setAddPaxHeadersForNonAsciiNames(true);
    for (Path path : sortedTree(root)) {
      String name = root.relativize(path).toString().replace('\\', '/');
      writeEntry(tar, path, name);
    }
    tar.finish();
  }

  /** Names in a tar compare byte-wise: sort the relative paths as strings, not as Path objects. */
  private static List<Path> sortedTree(Path root) throws IOException {
    List<Path> paths = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.filter(p -> !p.equals(root)).forEach(paths::add);
    }
    paths.sort(Comparator.comparing(p -> root.relativize(p).toString()));
    return paths;
  }

  private static void writeEntry(TarArchiveOutputStream tar, Path path, String name)
      throws IOException {
    int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    TarArchiveEntry entry;
    if (Files.isSymbolicLink(path)) {
      entry = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
      entry.setLinkName(Files.readSymbolicLink(path).toString());
      mode = 0777;
    } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
      entry = new TarArchiveEntry(name + "/", TarConstants.LF_DIR);
    } else if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
      entry = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
      entry.setSize(Files.size(path));
    } else {
      throw new IllegalArgumentException(
          "layer entry " + path + " is neither a file, a directory nor a symbolic link");
    }
    entry.setMode(mode);
    entry.setIds(0, 0);
    entry.setUserName("");
    entry.setGroupName("");
    entry.setModTime(FileTime.from(FIXED_TIME));
    tar.putArchiveEntry(entry);
    if (entry.isFile() && !entry.isSymbolicLink()) {
      Files.copy(path, tar);
    }
    tar.closeArchiveEntry();
  }
}
