package io.keywarden.contract;

/**
 * What the agent does after it changed the files: {@code signal:SIG<NAME>} (a {@link Signal}, sent
 * to the app's processes through a shared process namespace) or {@code exec:<command>} (a non-blank
 * command on one line, no control characters, run with {@code /bin/sh -c}).
 */
public sealed interface OnChange {

  /** Send a signal to the app's main processes. */
  record SendSignal(Signal signal) implements OnChange {}

  /** Run a command in the agent container. */
  record Exec(String command) implements OnChange {
    @Override
    public String toString() {
      // The command is the user's and might embed a credential.
      return "Exec[command=<redacted>]";
    }
  }

  String SIGNAL_PREFIX = "signal:";
  String EXEC_PREFIX = "exec:";

  static OnChange parse(String text) {
    if (text.startsWith(SIGNAL_PREFIX)) {
      try {
        return new SendSignal(Signal.parse(text.substring(SIGNAL_PREFIX.length())));
      } catch (GrammarException e) {
        throw new GrammarException("on-change " + e.getMessage());
      }
    }
    if (text.startsWith(EXEC_PREFIX)) {
      String command = text.substring(EXEC_PREFIX.length());
      if (!command.isBlank() && command.chars().noneMatch(Character::isISOControl)) {
        return new Exec(command);
      }
      throw new GrammarException(
          "on-change "
              + GrammarException.quote(text)
              + ": exec: needs a non-blank command on one line, such as exec:nginx -s reload");
    }
    throw new GrammarException(
        "on-change "
            + GrammarException.quote(text)
            + " must be signal:SIG<NAME> (SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,"
            + " SIGWINCH) or exec:<command>");
  }

  static String render(OnChange onChange) {
    if (onChange instanceof SendSignal send) {
      return SIGNAL_PREFIX + send.signal().configName();
    }
    return EXEC_PREFIX + ((Exec) onChange).command();
  }
}
