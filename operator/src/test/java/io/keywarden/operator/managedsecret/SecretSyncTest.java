package io.keywarden.operator.managedsecret;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * spec.syncToSecret's conversion: every copied byte is the value's own, and every field that is not
 * copied is named with the reason (issue 13 item 1).
 */
class SecretSyncTest {

  /** name, value, the whole-value key, expected data (decoded), expected notCopied. */
  static Stream<Arguments> conversions() {
    return Stream.of(
        arguments(
            "the reported object: odd key, value key, null, nested object",
            "{\"k&<>\":\"x\",\"value\":\"y\",\"n\":null,\"o\":{\"a\":1}}",
            "value",
            Map.of("value", "{\"k&<>\":\"x\",\"value\":\"y\",\"n\":null,\"o\":{\"a\":1}}", "n", ""),
            List.of(
                "'k&<>' (not a Secret data key (letters, digits, '-', '_', '.'; at most 253))",
                "'value' (the whole value already uses this key)",
                "'o' (a nested object; read it from the whole value)")),
        arguments(
            "strings as UTF-8, numbers and booleans as their literals",
            "{\"user\":\"app\",\"port\":5432,\"ratio\":1.50,\"big\":1e400,\"tls\":true,\"off\":false}",
            "credentials",
            Map.of(
                "credentials",
                "{\"user\":\"app\",\"port\":5432,\"ratio\":1.50,\"big\":1e400,\"tls\":true,\"off\":false}",
                "user",
                "app",
                "port",
                "5432",
                "ratio",
                "1.50",
                "big",
                "1e400",
                "tls",
                "true",
                "off",
                "false"),
            List.of()),
        arguments(
            "escapes decoded exactly: NUL, U+2028, emoji pair, quote",
            "{\"p\":\"a\\u0000b\\u2028\\ud83d\\ude00\\\"\"}",
            "value",
            Map.of(
                "value",
                "{\"p\":\"a\\u0000b\\u2028\\ud83d\\ude00\\\"\"}",
                "p",
                "a\u0000b\u2028\ud83d\ude00\""),
            List.of()),
        arguments(
            "an unpaired surrogate has no UTF-8 form",
            "{\"p\":\"ab\\ud800cd\",\"q\":\"ok\"}",
            "value",
            Map.of("value", "{\"p\":\"ab\\ud800cd\",\"q\":\"ok\"}", "q", "ok"),
            List.of("'p' (its string holds an unpaired UTF-16 surrogate)")),
        arguments(
            "an array is reported",
            "{\"hosts\":[\"a\",\"b\"]}",
            "value",
            Map.of("value", "{\"hosts\":[\"a\",\"b\"]}"),
            List.of("'hosts' (an array; read it from the whole value)")),
        arguments(
            "a duplicate field makes the value not one JSON object: copied whole only",
            "{\"a\":\"1\",\"a\":\"2\"}",
            "value",
            Map.of("value", "{\"a\":\"1\",\"a\":\"2\"}"),
            List.of()),
        arguments(
            "plain text is copied whole",
            "hunter2",
            "value",
            Map.of("value", "hunter2"),
            List.of()),
        arguments(
            "a JSON array value is copied whole",
            "[1,2]",
            "value",
            Map.of("value", "[1,2]"),
            List.of()),
        arguments(
            "trailing content after an object is copied whole",
            "{\"a\":\"1\"} x",
            "value",
            Map.of("value", "{\"a\":\"1\"} x"),
            List.of()),
        arguments(
            "empty name and a 254-character name are not Secret keys",
            "{\"\":\"1\",\"" + "k".repeat(254) + "\":\"2\",\"ok.key_-1\":\"3\"}",
            "value",
            Map.of(
                "value",
                "{\"\":\"1\",\"" + "k".repeat(254) + "\":\"2\",\"ok.key_-1\":\"3\"}",
                "ok.key_-1",
                "3"),
            List.of(
                "'' (not a Secret data key (letters, digits, '-', '_', '.'; at most 253))",
                "'"
                    + "k".repeat(64)
                    + "...' (not a Secret data key (letters, digits, '-', '_', '.'; at most 253))")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("conversions")
  void copiesExactlyOrNamesWhatItDidNotCopy(
      String name,
      String value,
      String wholeKey,
      Map<String, String> expected,
      List<String> notCopied) {
    SecretSync.Conversion conversion = SecretSync.convert(wholeKey, value.getBytes(UTF_8));

    Map<String, String> decoded = new LinkedHashMap<>();
    conversion
        .data()
        .forEach((k, v) -> decoded.put(k, new String(Base64.getDecoder().decode(v), UTF_8)));
    assertThat(decoded).isEqualTo(expected);
    assertThat(conversion.notCopied()).containsExactlyElementsOf(notCopied);
  }

  @ParameterizedTest(name = "binary value copied byte for byte")
  @MethodSource("binaries")
  void binaryValuesAreCopiedWhole(byte[] value) {
    SecretSync.Conversion conversion = SecretSync.convert("value", value);
    assertThat(Base64.getDecoder().decode(conversion.data().get("value"))).isEqualTo(value);
    assertThat(conversion.data()).hasSize(1);
  }

  static Stream<byte[]> binaries() {
    return Stream.of(
        new byte[] {0, (byte) 0xff, (byte) 0xfe, 0x7b},
        new byte[] {'{', '"', 'a', '"', ':', (byte) 0xc3, '}'});
  }
}
