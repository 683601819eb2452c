package io.keywarden.agent;

import java.io.PrintStream;
import java.time.Instant;

/**
 * One line per event on stderr: {@code <UTC instant> <LEVEL> <message>}. Callers pass names,
 * versions, statuses and counts, never a secret value or a token.
 */
final class Log {

  private final PrintStream out;

  Log(PrintStream out) {
    this.out = out;
  }

  void info(String message) {
    line("INFO", message);
  }

  void warn(String message) {
    line("WARN", message);
  }

  void error(String message) {
    line("ERROR", message);
  }

  private void line(String level, String message) {
    String line = Instant.now() + " " + level + " " + message.replace('\n', ' ').replace('\r', ' ');
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }
}
