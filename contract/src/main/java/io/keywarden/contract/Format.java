package io.keywarden.contract;

import java.util.Locale;

/**
 * How a file renders its secret; spelled in lower case in annotations and {@link AgentEnv#FILES}.
 */
public enum Format {
  /** The secret's bytes, or the selected key's value. */
  RAW,
  /** The secret (or the selected key's value) as compact JSON. */
  JSON,
  /** {@code KEY='value'} lines from a JSON object, for {@code . file} in sh or bash. */
  ENV,
  /** {@code key=value} lines from a JSON object, for {@code java.util.Properties#load}. */
  PROPERTIES;

  /** The spelling in annotations and in {@link AgentEnv#FILES}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The format spelled {@code text} exactly (lower case). */
  public static Format parse(String text) {
    for (Format format : values()) {
      if (format.configName().equals(text)) {
        return format;
      }
    }
    throw new GrammarException(
        "unknown format "
            + GrammarException.quote(text)
            + " (expected raw, json, env or properties)");
  }
}
