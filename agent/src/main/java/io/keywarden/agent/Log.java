package io.keywarden.agent;

import java.io.PrintStream;
import java.time.Instant;

/**
 * One line per event on stderr: {@code <UTC instant> <LEVEL> <message>}. Callers pass names,
 * versions, statuses and counts, never a secret value or a token.
 */
public final class Log {

  private final PrintStream out;
  private final String prefix;

  public Log(PrintStream out) {
    this(out, "");
  }

  /** A log whose every message starts with {@code prefix}, such as the pod it is about. */
  public Log(PrintStream out, String prefix) {
    this.out = out;
    this.prefix = prefix;
  }

  public void info(String message) {
    line("INFO", message);
  }

  public void warn(String message) {
    line("WARN", message);
  }

  public void error(String message) {
    line("ERROR", message);
  }

  private void line(String level, String message) {
    String line =
        Instant.now()
            + " "
            + level
            + " "
            + (prefix + message).replace('\n', ' ').replace('\r', ' ');
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }
}
