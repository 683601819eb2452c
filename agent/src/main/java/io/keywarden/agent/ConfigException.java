package io.keywarden.agent;

/**
 * A configuration variable that is missing or malformed; the message starts with the variable's
 * name.
 */
public final class ConfigException extends Exception {

  private final String variable;

  ConfigException(String variable, String problem) {
    super(variable + ": " + problem);
    this.variable = variable;
  }

  public String variable() {
    return variable;
  }
}
