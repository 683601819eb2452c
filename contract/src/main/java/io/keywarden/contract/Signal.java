package io.keywarden.contract;

/**
 * The signals {@code on-change} may send, spelled {@code SIG<NAME>} in configuration: the ones
 * servers use to reload or reopen (HUP, USR1, USR2, WINCH) or to stop gracefully (TERM, INT, QUIT),
 * so that the pod's restart policy brings the app back with the new files.
 */
public enum Signal {
  HUP,
  INT,
  QUIT,
  TERM,
  USR1,
  USR2,
  WINCH;

  /** The spelling in configuration, such as {@code SIGHUP}. */
  public String configName() {
    return "SIG" + name();
  }

  /**
   * The signal spelled {@code text} exactly ({@code SIGHUP}, not {@code HUP} or {@code sighup}).
   */
  public static Signal parse(String text) {
    for (Signal signal : values()) {
      if (signal.configName().equals(text)) {
        return signal;
      }
    }
    throw new GrammarException(
        "unsupported signal "
            + GrammarException.quote(text)
            + " (expected one of SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH)");
  }
}
