package io.keywarden.agent;

import io.keywarden.agent.AgentConfig.FileSpec;
import io.keywarden.contract.Format;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a secret value into a file's bytes according to the file's {@link Format} and optional key.
 * Error messages name the file, the secret and the key, never the value.
 */
final class Renderer {

  private Renderer() {}

  /** A secret that cannot be rendered as the file asks; the files on disk stay as they were. */
  static final class RenderException extends Exception {
    RenderException(FileSpec spec, String problem) {
      super("file " + spec.file() + " (secret " + spec.ref() + "): " + problem);
    }
  }

  static byte[] render(FileSpec spec, SecretValue value) throws RenderException {
    if (value.isBinary()) {
      if (spec.key() != null || spec.format() != Format.RAW) {
        throw new RenderException(
            spec,
            "the secret is binary (SecretBinary), so it can only be written whole with format raw");
      }
      return value.bytes();
    }
    if (spec.key() == null && spec.format() == Format.RAW) {
      return value.bytes();
    }
    Object selected = parse(spec, value.string());
    if (spec.key() != null) {
      if (!(selected instanceof Map<?, ?> object)) {
        throw new RenderException(
            spec, "key " + spec.key() + " needs a secret that is a JSON object");
      }
      if (!object.containsKey(spec.key())) {
        throw new RenderException(spec, "the secret has no top-level key " + spec.key());
      }
      selected = object.get(spec.key());
    }
    String text =
        switch (spec.format()) {
          case RAW -> utf8able(spec, spec.key(), text(selected));
          case JSON -> Json.write(selected);
          case ENV -> env(spec, object(spec, selected));
          case PROPERTIES -> properties(object(spec, selected));
        };
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static Object parse(FileSpec spec, String string) throws RenderException {
    try {
      return Json.parse(string);
    } catch (Json.ParseException e) {
      String needs =
          spec.key() != null ? "key " + spec.key() : "format " + spec.format().configName();
      throw new RenderException(
          spec, needs + " needs a JSON secret, and this one is not JSON (" + e.getMessage() + ")");
    }
  }

  private static Map<?, ?> object(FileSpec spec, Object value) throws RenderException {
    if (value instanceof Map<?, ?> object) {
      return object;
    }
    throw new RenderException(
        spec,
        "format "
            + spec.format().configName()
            + " needs a JSON object"
            + (spec.key() != null ? " at key " + spec.key() : ""));
  }

  /** A field's text: strings as they are, null as nothing, anything else as compact JSON. */
  private static String text(Object value) {
    if (value == null) {
      return "";
    }
    return value instanceof String string ? string : Json.write(value);
  }

  // KEY='value' lines for POSIX sh: inside single quotes nothing is special except the quote
  // itself.
  private static String env(FileSpec spec, Map<?, ?> object) throws RenderException {
    StringBuilder out = new StringBuilder();
    Map<String, String> namesFrom = new HashMap<>();
    for (Map.Entry<?, ?> field : object.entrySet()) {
      String key = (String) field.getKey();
      String name = envName(key);
      String clash = namesFrom.put(name, key);
      if (clash != null) {
        throw new RenderException(
            spec, "keys " + clash + " and " + key + " both become the variable " + name);
      }
      String value = utf8able(spec, key, text(field.getValue()));
      if (value.indexOf('\0') >= 0) {
        // sh and bash keep variables as C strings: sourcing drops the NUL and what follows it
        // differs by shell, so the variable would silently differ from the secret.
        throw new RenderException(
            spec,
            "key "
                + key
                + " holds a NUL character, which sh and bash cannot keep in a variable; use format"
                + " json, properties or raw for this secret");
      }
      out.append(name).append("='").append(value.replace("'", "'\\''")).append("'\n");
    }
    return out.toString();
  }

  /**
   * The text itself, when UTF-8 can encode it: a string parsed from a JSON escape such as {@code
   * \\ud800} may hold a lone surrogate, which {@link String#getBytes} would silently write as
   * {@code ?}.
   */
  private static String utf8able(FileSpec spec, String key, String text) throws RenderException {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new RenderException(
            spec,
            (key == null ? "the value" : "key " + key)
                + " holds an unpaired UTF-16 surrogate, which has no UTF-8 form; use format json"
                + " or properties, which keep it as an escape");
      }
    }
    return text;
  }

  /**
   * Upper case, every character outside [A-Z0-9_] as '_', and a leading '_' before a digit or for
   * an empty key.
   */
  static String envName(String key) {
    String upper = key.toUpperCase(Locale.ROOT);
    StringBuilder name = new StringBuilder(upper.length() + 1);
    if (upper.isEmpty() || (upper.charAt(0) >= '0' && upper.charAt(0) <= '9')) {
      name.append('_');
    }
    for (int i = 0; i < upper.length(); i++) {
      char c = upper.charAt(i);
      boolean allowed = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      name.append(allowed ? c : '_');
    }
    return name.toString();
  }

  // The escaping of Properties.store(OutputStream) (java.util.Properties#saveConvert), without its
  // date
  // comment so that equal secrets give equal files; ASCII only, so load(InputStream) and
  // load(Reader) agree.
  private static String properties(Map<?, ?> object) {
    StringBuilder out = new StringBuilder();
    for (Map.Entry<?, ?> field : object.entrySet()) {
      escapeProperty((String) field.getKey(), true, out);
      out.append('=');
      escapeProperty(text(field.getValue()), false, out);
      out.append('\n');
    }
    return out.toString();
  }

  private static void escapeProperty(String text, boolean isKey, StringBuilder out) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case ' ' -> out.append(i == 0 || isKey ? "\\ " : " ");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\f' -> out.append("\\f");
        case '\\', '=', ':', '#', '!' -> out.append('\\').append(c);
        default -> {
          if (c < 0x20 || c > 0x7e) {
            out.append("\\u");
            for (int shift = 12; shift >= 0; shift -= 4) {
              out.append("0123456789ABCDEF".charAt((c >> shift) & 0xf));
            }
          } else {
            out.append(c);
          }
        }
      }
    }
  }
}
