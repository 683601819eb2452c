package io.keywarden.operator.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A SoftHSM2 of its own: a softhsm2.conf whose token directory is a fresh temporary directory, and
 * tokens initialised there with softhsm2-util, so no test depends on the machine's tokens. The
 * process that uses them needs {@link #env()}; SoftHSM2 reads the configuration and lists tokens
 * once, when a process first loads the library, so initialise every token before that.
 */
public final class SoftHsm {

  public static final String LIBRARY = "/usr/lib/softhsm/libsofthsm2.so";
  public static final String SO_PIN = "so-pin-5678";
  private static final Pattern SLOT = Pattern.compile("reassigned to slot (\\d+)");

  private final Path conf;

  private SoftHsm(Path conf) {
    this.conf = conf;
  }

  /** Writes {@code conf} with a new temporary token directory. */
  public static SoftHsm at(Path conf) {
    if (!Files.isRegularFile(Path.of(LIBRARY))) {
      throw new IllegalStateException(
          LIBRARY + " is missing: install the softhsm2 package (.ci/run does)");
    }
    try {
      // Beside the configuration (a test's @TempDir or target/), so the tokens go with it rather
      // than piling up in /tmp: deleteOnExit cannot remove a directory that still holds files.
      Files.createDirectories(conf.getParent());
      Path tokens = Files.createTempDirectory(conf.getParent(), "softhsm-tokens-");
      Files.writeString(
          conf,
          "directories.tokendir = "
              + tokens
              + "\nobjectstore.backend = file\nlog.level = ERROR\n"
              + "slots.removable = false\n");
      return new SoftHsm(conf);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The environment a process needs to see these tokens. */
  public Map<String, String> env() {
    return Map.of("SOFTHSM2_CONF", conf.toString());
  }

  /** softhsm2-util --init-token --free; returns the slot id SoftHSM2 assigned. */
  public long initToken(String label, String pin) {
    ProcessBuilder builder =
        new ProcessBuilder(
                "softhsm2-util",
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                pin,
                "--so-pin",
                SO_PIN)
            .redirectErrorStream(true);
    builder.environment().putAll(env());
    try {
      Process process = builder.start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException("softhsm2-util --init-token failed: " + output);
      }
      Matcher m = SLOT.matcher(output);
      if (!m.find()) {
        throw new IllegalStateException("softhsm2-util did not name the slot: " + output);
      }
      return Long.parseLong(m.group(1));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
