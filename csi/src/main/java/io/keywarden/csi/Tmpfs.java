package io.keywarden.csi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Size-limited memory file systems at volume targets, by mount(8) and umount(8): the JDK has no
 * mount call, and these are on every node image. Memory, so a secret never reaches the node's disk;
 * size-limited, so a pod's volume cannot fill the node's memory.
 */
final class Tmpfs {

  private static final Path MOUNT_INFO = Path.of("/proc/self/mountinfo");

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
        "keywarden",
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
