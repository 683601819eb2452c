package io.keywarden.csi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Size-limited memory file systems at volume targets, by mount(8) and umount(8): the JDK has no
 * mount call, and these are on every node image. Memory, so a secret never reaches the node's disk;
 * size-limited, so a pod's volume cannot fill the node's memory.
 */
final class Tmpfs {

  private static final Path MOUNT_INFO = Path.of("/proc/self/mountinfo");
  // mount(8)'s source of every volume's tmpfs: with the type, what says a mount is the plugin's.
  private static final String SOURCE = "keywarden";

  private final String size;

  /**
   * @param size tmpfs's {@code size=} option, such as {@code 1m}
   */
  Tmpfs(String size) {
    this.size = size;
  }

  /** Mounts at {@code target} (made when missing) unless a file system is already mounted there. */
  void mount(Path target) throws IOException, InterruptedException {
    Files.createDirectories(target);
    if (isMountPoint(target)) {
      return;
    }
    // mode=0755: the app's user reads the files (their own mode is the volume's file-mode).
    run(
        "mount",
        "-t",
        "tmpfs",
        "-o",
        "size=" + size + ",mode=0755,nosuid,nodev,noexec",
        SOURCE,
        target.toString());
  }

  /** Unmounts {@code target} when it is a mount point and removes the directory. */
  void unmount(Path target) throws IOException, InterruptedException {
    if (isMountPoint(target)) {
      run("umount", target.toString());
    }
    Files.deleteIfExists(target);
  }

  /** Whether {@code target} is the mount point of some file system, from /proc/self/mountinfo. */
  static boolean isMountPoint(Path target) throws IOException {
    String wanted = target.toAbsolutePath().normalize().toString();
    for (String line : Files.readAllLines(MOUNT_INFO, StandardCharsets.UTF_8)) {
      String[] fields = line.split(" ");
      if (fields.length > 4 && unescape(fields[4]).equals(wanted)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code target} is the mount point of a tmpfs this plugin mounted (type {@code tmpfs},
   * source {@value #SOURCE}); the only mounts the plugin unmounts without kubelet asking.
   */
  static boolean isOurs(Path target) throws IOException {
    String wanted = target.toAbsolutePath().normalize().toString();
    return mounts().stream()
        .anyMatch(
            m ->
                m.mountPoint().equals(wanted)
                    && m.type().equals("tmpfs")
                    && m.source().equals(SOURCE));
  }

  /**
   * The type of the file system {@code path} is on (the mount with the longest mount point that
   * contains it), such as {@code tmpfs} or {@code ext4}; empty when /proc says nothing about it.
   */
  static Optional<String> fileSystemType(Path path) throws IOException {
    Path wanted = path.toAbsolutePath().normalize();
    Mount best = null;
    for (Mount mount : mounts()) {
      if (wanted.startsWith(mount.mountPoint())
          && (best == null || mount.mountPoint().length() >= best.mountPoint().length())) {
        best = mount;
      }
    }
    return Optional.ofNullable(best).map(Mount::type);
  }

  /** One line of mountinfo: where, what type, from what source (proc(5)). */
  private record Mount(String mountPoint, String type, String source) {}

  private static List<Mount> mounts() throws IOException {
    List<Mount> mounts = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(MOUNT_INFO, StandardCharsets.UTF_8)) {
      String[] fields = line.split(" ");
      // The optional fields end with "-"; the file system type and the source follow it.
      int separator = List.of(fields).indexOf("-");
      if (fields.length > 4 && separator > 4 && separator + 2 < fields.length) {
        mounts.add(
            new Mount(unescape(fields[4]), fields[separator + 1], unescape(fields[separator + 2])));
      }
    }
    return mounts;
  }

  /** {@link #isMountPoint}, false when /proc cannot be read (the mount then fails loudly). */
  static boolean isMountPointQuietly(Path target) {
    try {
      return isMountPoint(target);
    } catch (IOException e) {
      return false;
    }
  }

  /** mountinfo writes space, tab, newline and backslash as three octal digits after a backslash. */
  private static String unescape(String field) {
    StringBuilder out = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && i + 3 < field.length()) {
        out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException(command[0] + " did not finish within 30 s");
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      throw new IOException(
          String.join(" ", command) + " failed (" + process.exitValue() + "): " + output.strip());
    }
  }
}
