package io.keywarden.contract;

import java.util.regex.Pattern;

/**
 * The loopback port of the agent's AWS endpoint: a decimal number from 1024 to 65535 without sign
 * or leading zero, the range AWS's Secrets Manager Agent accepts (the agent runs without the
 * capability to bind lower ports). Default {@value #DEFAULT}, the port of AWS's agent, so apps
 * written for it need no change.
 */
public final class EndpointPort {

  public static final int DEFAULT = 2773;

  private static final Pattern TEXT = Pattern.compile("[1-9][0-9]{3,4}");

  private EndpointPort() {}

  public static int parse(String text) {
    if (TEXT.matcher(text).matches()) {
      int port = Integer.parseInt(text);
      if (port >= 1024 && port <= 65535) {
        return port;
      }
    }
    throw new GrammarException(
        "port " + GrammarException.quote(text) + " must be a number from 1024 to 65535");
  }
}
