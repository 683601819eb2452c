package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JsonTest {

  static Stream<Arguments> documents() {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("b", List.of(new Json.Number("1"), Boolean.TRUE));
    nested.put("a", null);
    return Stream.of(
        Arguments.of("string", "\"hello\"", "hello"),
        Arguments.of("escapes", "\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"", "q\" b\\ s/ \b\f\n\r\t"),
        Arguments.of("unicode escape", "\"\\u00e9\\u20AC\"", "é€"),
        Arguments.of("surrogate pair", "\"\\ud83d\\udd11\"", "\uD83D\uDD11"),
        Arguments.of("raw non-ASCII", "\"pässwörd🔑\"", "pässwörd🔑"),
        Arguments.of("integer", "42", new Json.Number("42")),
        Arguments.of("negative fraction exponent", "-0.5e+10", new Json.Number("-0.5e+10")),
        Arguments.of("true", "true", Boolean.TRUE),
        Arguments.of("false", " false ", Boolean.FALSE),
        Arguments.of("null", "null", null),
        Arguments.of("empty object", "{}", Map.of()),
        Arguments.of("empty array", "[ ]", List.of()),
        Arguments.of("nested, order kept", "{ \"b\" : [1, true], \"a\": null }\n", nested));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void parses(String name, String text, Object expected) throws Exception {
    assertThat(Json.parse(text)).isEqualTo(expected);
  }

  @Test
  void objectMembersKeepDocumentOrder() throws Exception {
    @SuppressWarnings("unchecked")
    Map<String, Object> object = (Map<String, Object>) Json.parse("{\"z\":1,\"a\":2,\"m\":3}");

    assertThat(new ArrayList<>(object.keySet())).containsExactly("z", "a", "m");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void refusesMalformedJsonWithAPositionAndWithoutTheText(String name, String text) {
    assertThatThrownBy(() -> Json.parse(text))
        .isInstanceOf(Json.ParseException.class)
        .hasMessageContaining("at position")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
  }

  static Stream<Arguments> malformed() {
    return Stream.of(
        Arguments.of("empty", ""),
        Arguments.of("trailing text", "{} hunter2"),
        Arguments.of("unterminated string", "\"hunter2"),
        Arguments.of("single quotes", "'hunter2'"),
        Arguments.of("trailing comma in object", "{\"a\":1,}"),
        Arguments.of("trailing comma in array", "[1,]"),
        Arguments.of("missing colon", "{\"a\" 1}"),
        Arguments.of("unquoted name", "{a:1}"),
        Arguments.of("duplicate name", "{\"a\":1,\"a\":2}"),
        Arguments.of("leading zero", "01"),
        Arguments.of("bare minus", "-"),
        Arguments.of("fraction without digits", "1."),
        Arguments.of("exponent without digits", "1e"),
        Arguments.of("plus sign", "+1"),
        Arguments.of("control character in string", "\"a\nb\""),
        Arguments.of("bad escape", "\"\\x\""),
        Arguments.of("short unicode escape", "\"\\u12\""),
        Arguments.of("misspelt literal", "nul"),
        Arguments.of("comment", "// hunter2\n{}"),
        Arguments.of("too deep", "[".repeat(300) + "]".repeat(300)));
  }

  static Stream<Arguments> writes() {
    Map<String, Object> object = new LinkedHashMap<>();
    object.put("s", "a\"b\\c\nd\u0001é");
    object.put("n", new Json.Number("1e5"));
    object.put("i", 7);
    object.put("l", 8L);
    object.put("b", false);
    object.put("z", null);
    object.put("list", Arrays.asList("x", null, List.of()));
    return Stream.of(
        Arguments.of("string escapes", "\t\"\\\u001f", "\"\\t\\\"\\\\\\u001f\""),
        Arguments.of("number literal kept", new Json.Number("-0.5E-3"), "-0.5E-3"),
        Arguments.of("null", null, "null"),
        Arguments.of(
            "object in order, compact",
            object,
            "{\"s\":\"a\\\"b\\\\c\\nd\\u0001é\",\"n\":1e5,\"i\":7,\"l\":8,\"b\":false,\"z\":null,\"list\":[\"x\",null,[]]}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("writes")
  void writesCompactJson(String name, Object value, String expected) {
    assertThat(Json.write(value)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void writtenJsonParsesBackToTheSameValue(String name, String text, Object value)
      throws Exception {
    assertThat(Json.parse(Json.write(value))).isEqualTo(value);
  }

  @Test
  void refusesToWriteWhatIsNotJson() {
    assertThatThrownBy(() -> Json.write(new Object())).isInstanceOf(IllegalArgumentException.class);
  }
}
