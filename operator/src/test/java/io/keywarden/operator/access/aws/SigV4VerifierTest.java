package io.keywarden.operator.access.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.operator.failure.Failure;
import io.keywarden.operator.failure.SignatureException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The verifier against AWS's published Signature Version 4 test suite (the "aws-sig-v4-test-suite"
 * of the AWS General Reference: credentials AKIDEXAMPLE, service "service", us-east-1, 2015-08-30
 * 12:36:00 UTC). Each case is the request as sent and the Authorization AWS's reference signer
 * produced for it; the verifier must accept exactly that and refuse it once anything changes.
 */
class SigV4VerifierTest {

  private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  private static final Instant SIGNED_AT = Instant.parse("2015-08-30T12:36:00Z");
  private static final String AMZ_DATE = "20150830T123600Z";
  private static final String STS_TOKEN =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPf"
          + "IeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPky"
          + "QDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbq"
          + "BAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

  private final SigV4Verifier verifier = new SigV4Verifier("service");

  record Case(
      String method,
      String path,
      String query,
      Map<String, List<String>> extraHeaders,
      String body,
      String signedHeaders,
      String signature) {

    RequestParts request(String signature) {
      Map<String, List<String>> headers = new LinkedHashMap<>(extraHeaders);
      headers.put("Host", List.of("example.amazonaws.com"));
      headers.put("X-Amz-Date", List.of(AMZ_DATE));
      headers.put(
          "Authorization",
          List.of(
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,"
                  + " SignedHeaders="
                  + signedHeaders
                  + ", Signature="
                  + signature));
      return new RequestParts(method, path, query, headers, body.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static Arguments vector(
      String name, String method, String path, String query, String signature) {
    return vector(name, method, path, query, Map.of(), "", "host;x-amz-date", signature);
  }

  private static Arguments vector(
      String name,
      String method,
      String path,
      String query,
      Map<String, List<String>> headers,
      String body,
      String signedHeaders,
      String signature) {
    return Arguments.of(
        name, new Case(method, path, query, headers, body, signedHeaders, signature));
  }

  static Stream<Arguments> awsTestSuite() {
    return Stream.of(
        vector(
            "get-vanilla",
            "GET",
            "/",
            "",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        vector(
            "get-vanilla-empty-query-key",
            "GET",
            "/",
            "Param1=value1",
            "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
        vector(
            "get-vanilla-query-order-key",
            "GET",
            "/",
            "Param1=value2&Param1=Value1",
            "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
        vector(
            "get-vanilla-query-order-key-case",
            "GET",
            "/",
            "Param2=value2&Param1=value1",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        vector(
            "get-vanilla-query-order-value",
            "GET",
            "/",
            "Param1=value2&Param1=value1",
            "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
        vector(
            "get-vanilla-query-unreserved",
            "GET",
            "/",
            "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                + "=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        vector(
            "get-vanilla-utf8-query",
            "GET",
            "/",
            "\u1234=bar",
            "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        vector(
            "get-unreserved",
            "GET",
            "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            "",
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        vector(
            "get-utf8",
            "GET",
            "/\u1234",
            "",
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        vector(
            "get-header-key-duplicate",
            "GET",
            "/",
            "",
            Map.of("My-Header1", List.of("value2", "value2", "value1")),
            "",
            "host;my-header1;x-amz-date",
            "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        vector(
            "get-header-value-order",
            "GET",
            "/",
            "",
            Map.of("My-Header1", List.of("value4", "value1", "value3", "value2")),
            "",
            "host;my-header1;x-amz-date",
            "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
        vector(
            "get-header-value-trim",
            "GET",
            "/",
            "",
            Map.of("My-Header1", List.of(" value1"), "My-Header2", List.of(" \"a   b   c\"")),
            "",
            "host;my-header1;my-header2;x-amz-date",
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        vector(
            "post-vanilla",
            "POST",
            "/",
            "",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        vector(
            "post-vanilla-query",
            "POST",
            "/",
            "Param1=value1",
            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
        vector(
            "post-header-key-sort",
            "POST",
            "/",
            "",
            Map.of("My-Header1", List.of("value1")),
            "",
            "host;my-header1;x-amz-date",
            "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
        vector(
            "post-header-value-case",
            "POST",
            "/",
            "",
            Map.of("My-Header1", List.of("VALUE1")),
            "",
            "host;my-header1;x-amz-date",
            "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
        vector(
            "post-sts-header-before",
            "POST",
            "/",
            "",
            Map.of("X-Amz-Security-Token", List.of(STS_TOKEN)),
            "",
            "host;x-amz-date;x-amz-security-token",
            "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
        vector(
            "post-sts-header-after",
            "POST",
            "/",
            "",
            Map.of("X-Amz-Security-Token", List.of(STS_TOKEN)),
            "",
            "host;x-amz-date",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        vector(
            "normalize-path/get-relative",
            "GET",
            "/example/..",
            "",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        vector(
            "normalize-path/get-relative-relative",
            "GET",
            "/example1/example2/../..",
            "",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        vector(
            "normalize-path/get-slash",
            "GET",
            "//",
            "",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        vector(
            "normalize-path/get-slash-dot-slash",
            "GET",
            "/./",
            "",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        vector(
            "normalize-path/get-slash-pointless-dot",
            "GET",
            "/./example",
            "",
            "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"),
        vector(
            "normalize-path/get-slashes",
            "GET",
            "//example//",
            "",
            "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
        vector(
            "normalize-path/get-space",
            "GET",
            "/example space/",
            "",
            "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"));
  }

  private String resolve(String accessKeyId, String sessionToken) {
    assertThat(accessKeyId).isEqualTo("AKIDEXAMPLE");
    return SECRET;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("awsTestSuite")
  void acceptsTheSignatureAwsComputed(String name, Case c) {
    var verified = verifier.verify(c.request(c.signature()), SIGNED_AT, this::resolve);

    assertThat(verified.accessKeyId()).isEqualTo("AKIDEXAMPLE");
    assertThat(verified.region()).isEqualTo("us-east-1");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("awsTestSuite")
  void refusesAnyOtherSignature(String name, Case c) {
    char last = c.signature().charAt(63);
    String altered = c.signature().substring(0, 63) + (last == '0' ? '1' : '0');

    assertThatThrownBy(() -> verifier.verify(c.request(altered), SIGNED_AT, this::resolve))
        .isInstanceOfSatisfying(
            SignatureException.class,
            e -> assertThat(e.failure()).isEqualTo(Failure.INVALID_SIGNATURE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("awsTestSuite")
  void refusesTheSameRequestWithAnotherSecret(String name, Case c) {
    assertThatThrownBy(
            () ->
                verifier.verify(
                    c.request(c.signature()), SIGNED_AT, (id, token) -> SECRET.replace('w', 'W')))
        .hasMessageStartingWith("The request signature we calculated does not match");
  }

  static Stream<Arguments> clock() {
    return Stream.of(
        Arguments.of("4m59s later", Duration.ofSeconds(299), true),
        Arguments.of("5m later", Duration.ofMinutes(5), true),
        Arguments.of("5m01s later (replayed)", Duration.ofSeconds(301), false),
        Arguments.of("4m59s earlier", Duration.ofSeconds(-299), true),
        Arguments.of("5m01s earlier (clock ahead)", Duration.ofSeconds(-301), false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("clock")
  void acceptsOnlyWithinFiveMinutesOfTheSigningTime(
      String name, Duration offset, boolean accepted) {
    Case vanilla = (Case) awsTestSuite().findFirst().orElseThrow().get()[1];
    Instant now = SIGNED_AT.plus(offset);
    if (accepted) {
      verifier.verify(vanilla.request(vanilla.signature()), now, this::resolve);
    } else {
      assertThatThrownBy(
              () -> verifier.verify(vanilla.request(vanilla.signature()), now, this::resolve))
          .isInstanceOfSatisfying(
              SignatureException.class,
              e -> assertThat(e.failure()).isEqualTo(Failure.INVALID_SIGNATURE))
          .hasMessageMatching("Signature (expired|not yet current): 20150830T123600Z .*");
    }
  }

  static Stream<Arguments> malformed() {
    String good =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,"
            + " SignedHeaders=host;x-amz-date, Signature="
            + "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    return Stream.of(
        Arguments.of(
            "no Signature",
            good.substring(0, good.indexOf(", Signature")),
            Failure.INCOMPLETE_SIGNATURE,
            "requires 'Signature'"),
        Arguments.of(
            "no SignedHeaders",
            good.replace(" SignedHeaders=host;x-amz-date,", ""),
            Failure.INCOMPLETE_SIGNATURE,
            "requires 'SignedHeaders'"),
        Arguments.of(
            "scope of four parts",
            good.replace("/us-east-1/", "/"),
            Failure.INCOMPLETE_SIGNATURE,
            "exactly 5 slash-delimited elements"),
        Arguments.of(
            "another service",
            good.replace("/service/", "/kms/"),
            Failure.INVALID_SIGNATURE,
            "correct service: 'service'"),
        Arguments.of(
            "another terminator",
            good.replace("aws4_request", "aws5_request"),
            Failure.INVALID_SIGNATURE,
            "valid terminator"),
        Arguments.of(
            "scope of another day",
            good.replace("/20150830/", "/20150831/"),
            Failure.INVALID_SIGNATURE,
            "Date in Credential scope does not match"),
        Arguments.of(
            "host not signed",
            good.replace("host;x-amz-date", "x-amz-date"),
            Failure.INCOMPLETE_SIGNATURE,
            "'Host' or ':authority' must be a 'SignedHeader'"),
        Arguments.of(
            "date not signed",
            good.replace("host;x-amz-date", "host"),
            Failure.INCOMPLETE_SIGNATURE,
            "'X-Amz-Date' must be a 'SignedHeader'"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void refusesAnAuthorizationHeaderAwsWouldRefuse(
      String name, String header, Failure failure, String message) {
    RequestParts request =
        new RequestParts(
            "GET",
            "/",
            "",
            Map.of(
                "Host", List.of("example.amazonaws.com"),
                "X-Amz-Date", List.of(AMZ_DATE),
                "Authorization", List.of(header)),
            new byte[0]);

    assertThatThrownBy(() -> verifier.verify(request, SIGNED_AT, this::resolve))
        .isInstanceOfSatisfying(
            SignatureException.class, e -> assertThat(e.failure()).isEqualTo(failure))
        .hasMessageContaining(message);
  }
}
