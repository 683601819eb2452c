package io.keywarden.agent;

import java.util.Locale;

/**
 * How a file renders its secret (annotation {@code keywarden.io/format.<file>}); see {@link
 * Renderer}.
 */
public enum Format {
  /** The secret's bytes, or the selected key's string value. */
  RAW,
  /** The secret (or the selected key's value) as compact JSON. */
  JSON,
  /** {@code KEY='value'} lines from a JSON object, for {@code . file} in a shell. */
  ENV,
  /**
   * {@code key=value} lines from a JSON object, for {@link
   * java.util.Properties#load(java.io.InputStream)}.
   */
  PROPERTIES;

  /** The lower-case name used in configuration. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  static Format parse(String name) {
    for (Format format : values()) {
      if (format.configName().equals(name)) {
        return format;
      }
    }
    return null;
  }
}
