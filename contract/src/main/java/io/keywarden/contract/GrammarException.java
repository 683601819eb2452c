package io.keywarden.contract;

/**
 * A value that does not follow its grammar. The message says what is expected and quotes at most 64
 * characters of the value, without control characters; callers prefix the annotation or variable it
 * came from.
 */
public final class GrammarException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  GrammarException(String message) {
    super(message);
  }

  /** The value, short and on one line, in single quotes. */
  static String quote(String value) {
    String shown = value.length() > 64 ? value.substring(0, 64) + "..." : value;
    StringBuilder out = new StringBuilder(shown.length() + 2).append('\'');
    for (int i = 0; i < shown.length(); i++) {
      char c = shown.charAt(i);
      out.append(Character.isISOControl(c) ? '?' : c);
    }
    return out.append('\'').toString();
  }
}
