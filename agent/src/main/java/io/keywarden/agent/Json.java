package io.keywarden.agent;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small RFC 8259 reader and writer, so that the agent jar needs no library. Values map to plain
 * Java: object = {@code Map<String, Object>} (members in document order), array = {@code
 * List<Object>}, string = {@link String}, number = {@link Number} (its literal text is kept, so
 * {@code 1e5} is written back as {@code 1e5}), {@code true}/{@code false} = {@link Boolean}, {@code
 * null} = Java {@code null}.
 *
 * <p>The reader is strict: one value, no trailing text, no duplicate member names, no comments.
 * Error messages carry the position only, never the text around it, because the text may be a
 * secret.
 */
public final class Json {

  // Each level costs a few stack frames; a 256 KiB thread stack holds far more than this.
  private static final int MAX_DEPTH = 256;

  private Json() {}

  /** A JSON number, kept as its literal text. */
  public record Number(String literal) {
    @Override
    public String toString() {
      return literal;
    }
  }

  /** Thrown for malformed JSON; the message names the position, never the content. */
  public static final class ParseException extends Exception {
    ParseException(String message, int position) {
      super(message + " at position " + position);
    }
  }

  public static Object parse(String text) throws ParseException {
    Reader reader = new Reader(text);
    reader.skipWhitespace();
    Object value = reader.value(0);
    reader.skipWhitespace();
    if (reader.pos != text.length()) {
      throw new ParseException("unexpected text after the JSON value", reader.pos);
    }
    return value;
  }

  /**
   * Compact JSON of {@code value}; also accepts {@link Integer} and {@link Long} for convenience.
   */
  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(value, out);
    return out.toString();
  }

  private static void write(Object value, StringBuilder out) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof String string) {
      writeString(string, out);
    } else if (value instanceof Map<?, ?> map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> member : map.entrySet()) {
        if (!first) {
          out.append(',');
        }
        first = false;
        writeString((String) member.getKey(), out);
        out.append(':');
        write(member.getValue(), out);
      }
      out.append('}');
    } else if (value instanceof List<?> list) {
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        write(list.get(i), out);
      }
      out.append(']');
    } else if (value instanceof Boolean
        || value instanceof Number
        || value instanceof Integer
        || value instanceof Long) {
      out.append(value);
    } else {
      throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
    }
  }

  private static void writeString(String string, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < string.length(); i++) {
      char c = string.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          boolean pairedSurrogate =
              Character.isHighSurrogate(c)
                      && i + 1 < string.length()
                      && Character.isLowSurrogate(string.charAt(i + 1))
                  || Character.isLowSurrogate(c)
                      && i > 0
                      && Character.isHighSurrogate(string.charAt(i - 1));
          if (c < 0x20 || (Character.isSurrogate(c) && !pairedSurrogate)) {
            // A lone surrogate has no UTF-8 form; as an escape it comes back exactly.
            out.append("\\u");
            for (int shift = 12; shift >= 0; shift -= 4) {
              out.append(Character.forDigit((c >> shift) & 0xf, 16));
            }
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  private static final class Reader {
    private final String text;
    private int pos;

    Reader(String text) {
      this.text = text;
    }

    Object value(int depth) throws ParseException {
      if (pos >= text.length()) {
        throw new ParseException("unexpected end of JSON", pos);
      }
      char c = text.charAt(pos);
      switch (c) {
        case '{':
          return object(depth + 1);
        case '[':
          return array(depth + 1);
        case '"':
          return string();
        case 't':
          return literal("true", Boolean.TRUE);
        case 'f':
          return literal("false", Boolean.FALSE);
        case 'n':
          return literal("null", null);
        default:
          if (c == '-' || (c >= '0' && c <= '9')) {
            return number();
          }
          throw new ParseException("unexpected character", pos);
      }
    }

    private Map<String, Object> object(int depth) throws ParseException {
      checkDepth(depth);
      pos++;
      Map<String, Object> members = new LinkedHashMap<>();
      skipWhitespace();
      if (peek() == '}') {
        pos++;
        return members;
      }
      while (true) {
        skipWhitespace();
        if (peek() != '"') {
          throw new ParseException("expected a member name", pos);
        }
        int namePos = pos;
        String name = string();
        skipWhitespace();
        expect(':');
        skipWhitespace();
        Object value = value(depth);
        if (members.containsKey(name)) {
          throw new ParseException("duplicate member name", namePos);
        }
        members.put(name, value);
        skipWhitespace();
        char c = next("',' or '}'");
        if (c == '}') {
          return members;
        }
        if (c != ',') {
          throw new ParseException("expected ',' or '}'", pos - 1);
        }
      }
    }

    private List<Object> array(int depth) throws ParseException {
      checkDepth(depth);
      pos++;
      List<Object> elements = new ArrayList<>();
      skipWhitespace();
      if (peek() == ']') {
        pos++;
        return elements;
      }
      while (true) {
        skipWhitespace();
        elements.add(value(depth));
        skipWhitespace();
        char c = next("',' or ']'");
        if (c == ']') {
          return elements;
        }
        if (c != ',') {
          throw new ParseException("expected ',' or ']'", pos - 1);
        }
      }
    }

    private String string() throws ParseException {
      pos++;
      StringBuilder out = new StringBuilder();
      while (true) {
        char c = next("'\"'");
        if (c == '"') {
          return out.toString();
        }
        if (c < 0x20) {
          throw new ParseException("control character in string", pos - 1);
        }
        if (c != '\\') {
          out.append(c);
          continue;
        }
        char escape = next("an escape");
        switch (escape) {
          case '"', '\\', '/' -> out.append(escape);
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          // Surrogate pairs arrive as two escapes and are joined by the StringBuilder.
          case 'u' -> out.append(hex4());
          default -> throw new ParseException("invalid escape", pos - 1);
        }
      }
    }

    private char hex4() throws ParseException {
      if (pos + 4 > text.length()) {
        throw new ParseException("unexpected end of JSON in \\u escape", pos);
      }
      int value = 0;
      for (int i = 0; i < 4; i++) {
        int digit = Character.digit(text.charAt(pos), 16);
        if (digit < 0) {
          throw new ParseException("invalid \\u escape", pos);
        }
        value = value * 16 + digit;
        pos++;
      }
      return (char) value;
    }

    // number = [ minus ] int [ frac ] [ exp ] (RFC 8259, section 6)
    private Number number() throws ParseException {
      int start = pos;
      if (peek() == '-') {
        pos++;
      }
      if (peek() == '0') {
        pos++;
      } else if (!digits()) {
        throw new ParseException("invalid number", start);
      }
      if (peek() == '.') {
        pos++;
        if (!digits()) {
          throw new ParseException("invalid number", start);
        }
      }
      if (peek() == 'e' || peek() == 'E') {
        pos++;
        if (peek() == '+' || peek() == '-') {
          pos++;
        }
        if (!digits()) {
          throw new ParseException("invalid number", start);
        }
      }
      return new Number(text.substring(start, pos));
    }

    private boolean digits() {
      int start = pos;
      while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
        pos++;
      }
      return pos > start;
    }

    private Object literal(String word, Object value) throws ParseException {
      if (!text.startsWith(word, pos)) {
        throw new ParseException("unexpected character", pos);
      }
      pos += word.length();
      return value;
    }

    void skipWhitespace() {
      while (pos < text.length()) {
        char c = text.charAt(pos);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
          return;
        }
        pos++;
      }
    }

    private char peek() {
      return pos < text.length() ? text.charAt(pos) : 0;
    }

    private char next(String expected) throws ParseException {
      if (pos >= text.length()) {
        throw new ParseException("unexpected end of JSON, expected " + expected, pos);
      }
      return text.charAt(pos++);
    }

    private void expect(char c) throws ParseException {
      if (peek() != c) {
        throw new ParseException("expected '" + c + "'", pos);
      }
      pos++;
    }

    private void checkDepth(int depth) throws ParseException {
      if (depth > MAX_DEPTH) {
        throw new ParseException("nested deeper than " + MAX_DEPTH, pos);
      }
    }
  }
}
