package io.keywarden.contract;

import java.util.List;
import java.util.Objects;

/**
 * One file of {@link AgentEnv#FILES}: {@code {"file":...,"secret":...,"key":...|null,"format":...,
 * "stage":...}}, in that order. The injector renders the list with {@link #render(List)}; the agent
 * parses it as JSON and refuses unknown fields.
 *
 * @param key one top-level key of a JSON secret, or null for the whole value
 */
public record FileEntry(String file, String secret, String key, Format format, Stage stage) {

  /** The field names, in the order they are rendered. */
  public static final List<String> FIELDS = List.of("file", "secret", "key", "format", "stage");

  public FileEntry {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(secret, "secret");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(stage, "stage");
  }

  /** Compact JSON (RFC 8259), ASCII only: every character outside printable ASCII as \\uXXXX. */
  public static String render(List<FileEntry> entries) {
    StringBuilder out = new StringBuilder("[");
    for (FileEntry entry : entries) {
      if (out.length() > 1) {
        out.append(',');
      }
      out.append("{\"file\":");
      string(entry.file(), out);
      out.append(",\"secret\":");
      string(entry.secret(), out);
      out.append(",\"key\":");
      if (entry.key() == null) {
        out.append("null");
      } else {
        string(entry.key(), out);
      }
      out.append(",\"format\":");
      string(entry.format().configName(), out);
      out.append(",\"stage\":");
      string(entry.stage().name(), out);
      out.append('}');
    }
    return out.append(']').toString();
  }

  private static void string(String text, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20 || c > 0x7e) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    out.append('"');
  }
}
