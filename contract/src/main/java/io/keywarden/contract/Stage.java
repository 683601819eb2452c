package io.keywarden.contract;

/**
 * Staging label of the version a file holds, as in AWS Secrets Manager (without its {@code AWS}
 * prefix); spelled in upper case everywhere.
 */
public enum Stage {
  CURRENT,
  PREVIOUS,
  PENDING;

  /** The stage spelled {@code text} exactly. */
  public static Stage parse(String text) {
    for (Stage stage : values()) {
      if (stage.name().equals(text)) {
        return stage;
      }
    }
    throw new GrammarException(
        "unknown stage "
            + GrammarException.quote(text)
            + " (expected CURRENT, PREVIOUS or PENDING)");
  }
}
