package io.keywarden.contract;

/**
 * A bad setting of a file set ({@link FileSetParser}): the key as the user wrote it (an annotation
 * or a CSI volume attribute) and what to fix, so each caller words its own error around both.
 */
public final class SettingException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String key;

  SettingException(String key, String problem) {
    super(problem);
    this.key = key;
  }

  /** The full key as given, e.g. {@code keywarden.io/format.db} or {@code format.db}. */
  public String key() {
    return key;
  }
}
