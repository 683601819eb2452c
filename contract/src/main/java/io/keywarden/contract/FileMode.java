package io.keywarden.contract;

import java.util.regex.Pattern;

/**
 * The mode of the secret files: four octal digits starting with {@code 0}, such as {@code 0440}, so
 * at most {@code 0777} (no setuid, setgid or sticky bit), and always readable by the owner, since
 * the agent reads its files back to skip unchanged writes. The leading {@code 0} is required:
 * {@code 420} would read as octal here but is the decimal spelling of 0644 in a pod's {@code
 * defaultMode}.
 */
public final class FileMode {

  /** kubelet's default for Secret volumes. */
  public static final int DEFAULT = 0644;

  private static final Pattern TEXT = Pattern.compile("0[0-7]{3}");

  private FileMode() {}

  public static int parse(String text) {
    if (!TEXT.matcher(text).matches()) {
      throw new GrammarException(
          "file mode "
              + GrammarException.quote(text)
              + " must be four octal digits such as 0440 or 0400 (at most 0777: no setuid, setgid or sticky bit)");
    }
    int mode = Integer.parseInt(text, 8);
    if ((mode & 0400) == 0) {
      throw new GrammarException(
          "file mode "
              + GrammarException.quote(text)
              + " must let the owner read the files (the agent reads them back to skip unchanged writes)");
    }
    return mode;
  }

  public static String render(int mode) {
    return String.format("%04o", mode);
  }
}
