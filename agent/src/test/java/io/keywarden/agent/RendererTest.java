package io.keywarden.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.agent.AgentConfig.FileSpec;
import io.keywarden.agent.AgentConfig.SecretRef;
import io.keywarden.contract.Format;
import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RendererTest {

  private static final String DB =
      "{\"username\":\"app\",\"password\":\"it's s3cret\",\"port\":5432,\"tls\":true,"
          + "\"replica\":null,\"hosts\":[\"a\",\"b\"],\"opts\":{\"x\":1}}";

  static Stream<Arguments> renderings() {
    return Stream.of(
        Arguments.of(
            "raw whole secret, bytes as they are",
            "  not JSON \n",
            null,
            Format.RAW,
            "  not JSON \n"),
        Arguments.of(
            "raw whole JSON secret is not reformatted",
            "{ \"a\" : 1 }",
            null,
            Format.RAW,
            "{ \"a\" : 1 }"),
        Arguments.of("raw key, string without quotes", DB, "password", Format.RAW, "it's s3cret"),
        Arguments.of("raw key, number literal", DB, "port", Format.RAW, "5432"),
        Arguments.of("raw key, boolean", DB, "tls", Format.RAW, "true"),
        Arguments.of("raw key, null is empty", DB, "replica", Format.RAW, ""),
        Arguments.of("raw key, object as compact JSON", DB, "opts", Format.RAW, "{\"x\":1}"),
        Arguments.of(
            "json whole secret, compact, order kept",
            "{ \"b\": 1,\n \"a\": [true, null] }",
            null,
            Format.JSON,
            "{\"b\":1,\"a\":[true,null]}"),
        Arguments.of("json key, string quoted", DB, "password", Format.JSON, "\"it's s3cret\""),
        Arguments.of("json key, array", DB, "hosts", Format.JSON, "[\"a\",\"b\"]"),
        Arguments.of(
            "env",
            DB,
            null,
            Format.ENV,
            "USERNAME='app'\nPASSWORD='it'\\''s s3cret'\nPORT='5432'\nTLS='true'\nREPLICA=''\nHOSTS='[\"a\",\"b\"]'\n"
                + "OPTS='{\"x\":1}'\n"),
        Arguments.of(
            "env names normalised",
            "{\"db-host\":\"h\",\"api.key\":\"k\",\"9lives\":\"c\",\"ünï\":\"u\"}",
            null,
            Format.ENV,
            "DB_HOST='h'\nAPI_KEY='k'\n_9LIVES='c'\n_N_='u'\n"),
        Arguments.of(
            "env of a key's object", "{\"db\":{\"user\":\"u\"}}", "db", Format.ENV, "USER='u'\n"),
        Arguments.of("env of an empty object", "{}", null, Format.ENV, ""),
        Arguments.of(
            "properties",
            "{\"user\":\"app\",\"port\":5432}",
            null,
            Format.PROPERTIES,
            "user=app\nport=5432\n"),
        Arguments.of(
            "properties escapes",
            "{\"a key=:#!\":\" lead\\\\back=:#!\\t\\n\\r\\fé€\"}",
            null,
            Format.PROPERTIES,
            "a\\ key\\=\\:\\#\\!=\\ lead\\\\back\\=\\:\\#\\!\\t\\n\\r\\f\\u00E9\\u20AC\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renderings")
  void renders(String name, String secret, String key, Format format, String expected)
      throws Exception {
    assertThat(new String(Renderer.render(spec(key, format), value(secret)), UTF_8))
        .isEqualTo(expected);
  }

  @Test
  void binarySecretIsWrittenRawByteForByte() throws Exception {
    byte[] bytes = {0, (byte) 0xff, (byte) 0xc3, 0x28, 10};

    assertThat(Renderer.render(spec(null, Format.RAW), new SecretValue("cert", "v1", null, bytes)))
        .isEqualTo(bytes);
  }

  static Stream<Arguments> errors() {
    return Stream.of(
        Arguments.of(
            "key absent", DB, "pasword", Format.RAW, "the secret has no top-level key pasword"),
        Arguments.of(
            "key on a secret that is not JSON",
            "hunter2",
            "password",
            Format.RAW,
            "key password needs a JSON secret"),
        Arguments.of(
            "key on a JSON array",
            "[\"hunter2\"]",
            "password",
            Format.RAW,
            "key password needs a secret that is a JSON object"),
        Arguments.of(
            "key on a JSON string",
            "\"hunter2\"",
            "password",
            Format.JSON,
            "needs a secret that is a JSON object"),
        Arguments.of(
            "json of a secret that is not JSON",
            "hunter2",
            null,
            Format.JSON,
            "format json needs a JSON secret"),
        Arguments.of(
            "env of a JSON array",
            "[\"hunter2\"]",
            null,
            Format.ENV,
            "format env needs a JSON object"),
        Arguments.of(
            "env of a key's string",
            "{\"p\":\"hunter2\"}",
            "p",
            Format.ENV,
            "format env needs a JSON object at key p"),
        Arguments.of(
            "properties of plain text",
            "hunter2",
            null,
            Format.PROPERTIES,
            "format properties needs a JSON secret"),
        Arguments.of(
            "env names that collide",
            "{\"db-host\":\"hunter2\",\"db_host\":\"hunter2\"}",
            null,
            Format.ENV,
            "keys db-host and db_host both become the variable DB_HOST"),
        Arguments.of(
            "env value with a NUL, which sh and bash cannot hold",
            "{\"user\":\"app\",\"p\":\"hunter2\\u0000tail\"}",
            null,
            Format.ENV,
            "key p holds a NUL character, which sh and bash cannot keep in a variable"),
        Arguments.of(
            "env of a key's object with a NUL",
            "{\"db\":{\"p\":\"\\u0000hunter2\"}}",
            "db",
            Format.ENV,
            "key p holds a NUL character"),
        Arguments.of(
            "raw key with an unpaired surrogate, which UTF-8 cannot encode",
            "{\"p\":\"hunter2\\ud800\"}",
            "p",
            Format.RAW,
            "key p holds an unpaired UTF-16 surrogate"),
        Arguments.of(
            "env with an unpaired surrogate",
            "{\"p\":\"\\udc00hunter2\"}",
            null,
            Format.ENV,
            "key p holds an unpaired UTF-16 surrogate"));
  }

  /** What each format does with the characters that are hard to carry: exactly as documented. */
  static Stream<Arguments> hardCharacters() {
    return Stream.of(
        Arguments.of(
            "raw key: NUL and control characters as they are",
            "{\"p\":\"a\\u0000b\\u0001\\u001f\\u007f\"}",
            "p",
            Format.RAW,
            "a\u0000b\u0001\u001f\u007f"),
        Arguments.of(
            "raw key: U+2028, U+2029, BOM and a surrogate pair as UTF-8",
            "{\"p\":\"\\u2028\\u2029\\ufeff\\ud83d\\ude00\"}",
            "p",
            Format.RAW,
            "\u2028\u2029\ufeff\ud83d\ude00"),
        Arguments.of(
            "json: NUL escaped, an unpaired surrogate kept as its escape",
            "{\"p\":\"a\\u0000b\\ud800c\"}",
            "p",
            Format.JSON,
            "\"a\\u0000b\\ud800c\""),
        Arguments.of(
            "json: a pair stays a character",
            "{\"p\":\"\\ud83d\\ude00\"}",
            "p",
            Format.JSON,
            "\"\ud83d\ude00\""),
        Arguments.of(
            "properties: NUL and an unpaired surrogate as \\u escapes",
            "{\"p\":\"a\\u0000b\\ud800\"}",
            null,
            Format.PROPERTIES,
            "p=a\\u0000b\\uD800\n"),
        Arguments.of(
            "env: control characters other than NUL inside single quotes",
            "{\"p\":\"a\\u0001\\r\\n\\u007f\"}",
            null,
            Format.ENV,
            "P='a\u0001\r\n\u007f'\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hardCharacters")
  void hardCharactersAreKeptExactly(
      String name, String secret, String key, Format format, String expected) throws Exception {
    assertThat(Renderer.render(spec(key, format), value(secret)))
        .isEqualTo(expected.getBytes(UTF_8));
  }

  /** Values sourced from the env format by real shells; compared byte for byte. */
  static Stream<Arguments> sourcedValues() {
    StringBuilder everyAsciiButNul = new StringBuilder();
    for (char c = 1; c < 128; c++) {
      everyAsciiButNul.append(c);
    }
    StringBuilder latin = new StringBuilder();
    for (char c = 0x80; c < 0x100; c++) {
      latin.append(c);
    }
    Stream.Builder<Arguments> cases = Stream.builder();
    for (String shell : new String[] {"/bin/sh", "/bin/bash", "/bin/dash"}) {
      if (!Files.isExecutable(Path.of(shell))) {
        continue;
      }
      cases.add(Arguments.of(shell, "every ASCII character but NUL", everyAsciiButNul.toString()));
      cases.add(Arguments.of(shell, "U+0080 to U+00FF", latin.toString()));
      cases.add(
          Arguments.of(
              shell, "U+2028, U+2029, BOM, emoji, CJK", "\u2028\u2029\ufeff\ud83d\ude00\u4e2d"));
      cases.add(Arguments.of(shell, "quotes and expansions", "'\"$HOME`id`$(id)\\'\\\\'"));
      cases.add(Arguments.of(shell, "trailing and leading newlines", "\n\nx\n\n"));
      cases.add(Arguments.of(shell, "empty", ""));
    }
    return cases.build();
  }

  @ParameterizedTest(name = "{0} sources {1} exactly")
  @MethodSource("sourcedValues")
  void envFileSourcedByRealShellsGivesTheExactBytes(
      String shell, String name, String expected, @TempDir Path dir) throws Exception {
    String secret = Json.write(java.util.Map.of("value", expected, "other", "x"));
    Path env =
        Files.write(dir.resolve("db.env"), Renderer.render(spec(null, Format.ENV), value(secret)));

    Process process =
        new ProcessBuilder(shell, "-c", ". \"$1\" && printf %s \"$VALUE\"", "sh", env.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    byte[] printed = process.getInputStream().readAllBytes();

    assertThat(process.waitFor()).isZero();
    assertThat(printed).isEqualTo(expected.getBytes(UTF_8));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("errors")
  void refusesWhatCannotBeRenderedNamingFileSecretAndKeyButNotTheValue(
      String name, String secret, String key, Format format, String problem) {
    assertThatThrownBy(() -> Renderer.render(spec(key, format), value(secret)))
        .isInstanceOf(Renderer.RenderException.class)
        .hasMessageStartingWith("file db (secret db-password): ")
        .hasMessageContaining(problem)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
  }

  @ParameterizedTest(name = "binary secret with {0}")
  @MethodSource("binaryMisuse")
  void binarySecretOnlyRendersWholeAndRaw(String key, Format format) {
    assertThatThrownBy(
            () ->
                Renderer.render(
                    spec(key, format), new SecretValue("cert", "v1", null, new byte[] {1})))
        .isInstanceOf(Renderer.RenderException.class)
        .hasMessageContaining("binary");
  }

  static Stream<Arguments> binaryMisuse() {
    return Stream.of(
        Arguments.of("password", Format.RAW),
        Arguments.of(null, Format.JSON),
        Arguments.of(null, Format.ENV),
        Arguments.of(null, Format.PROPERTIES));
  }

  @Test
  void propertiesLoadBackToTheSameStringsWithEitherLoader() throws Exception {
    String secret = "{\"a key\":\" v=1:2#3!4\\\\5\",\"ünï\":\"€\\n\\t x\",\"#c\":\"\",\"n\":1.50}";
    byte[] rendered = Renderer.render(spec(null, Format.PROPERTIES), value(secret));

    Properties fromStream = new Properties();
    fromStream.load(new ByteArrayInputStream(rendered));
    Properties fromReader = new Properties();
    fromReader.load(new StringReader(new String(rendered, UTF_8)));

    Properties expected = new Properties();
    expected.put("a key", " v=1:2#3!4\\5");
    expected.put("ünï", "€\n\t x");
    expected.put("#c", "");
    expected.put("n", "1.50");
    assertThat(fromStream).isEqualTo(expected);
    assertThat(fromReader).isEqualTo(expected);
  }

  @Test
  void envFileSourcedByShGivesTheExactValues(@TempDir Path dir) throws Exception {
    String tricky = "it's \"quoted\" $HOME `id` \\n\n\ttab; rm -rf / é";
    String secret = Json.write(java.util.Map.of("password", tricky));
    Path env =
        Files.write(dir.resolve("db.env"), Renderer.render(spec(null, Format.ENV), value(secret)));

    Process sh =
        new ProcessBuilder(
                "/bin/sh", "-c", ". \"$1\" && printf %s \"$PASSWORD\"", "sh", env.toString())
            .start();
    String printed = new String(sh.getInputStream().readAllBytes(), UTF_8);

    assertThat(sh.waitFor()).isZero();
    assertThat(printed).isEqualTo(tricky);
  }

  @Test
  void sameValueRendersToTheSameBytes() throws Exception {
    for (Format format : Format.values()) {
      assertThat(Renderer.render(spec(null, format), value(DB)))
          .isEqualTo(Renderer.render(spec(null, format), value(DB)));
    }
  }

  private static FileSpec spec(String key, Format format) {
    return new FileSpec("db", new SecretRef("db-password", "CURRENT"), key, format);
  }

  private static SecretValue value(String string) {
    return new SecretValue("db-password", "v1", string, null);
  }
}
