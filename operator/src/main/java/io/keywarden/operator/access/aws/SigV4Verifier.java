package io.keywarden.operator.access.aws;

import com.github.benmanes.caffeine.cache.Cache;
import io.keywarden.operator.config.Caches;
import io.keywarden.operator.crypto.Sha256;
import io.keywarden.operator.failure.SignatureException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Verifies AWS Signature Version 4 in the Authorization header, step by step as AWS specifies it
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html): the canonical
 * request (method, normalized and URI-encoded path, sorted canonical query, the signed headers with
 * trimmed values, the payload hash), the string to sign with the credential scope, the signing key
 * derived from the secret through date, region, service and aws4_request, and a constant-time
 * comparison. Around it the checks AWS makes: the scope names this service and the request's date,
 * the request is signed within five minutes of now, host and x-amz-date are signed, and a sent
 * x-amz-content-sha256 matches the body. Which secret belongs to the access key is the resolver's
 * business ({@link SessionTokens}).
 */
public final class SigV4Verifier {

  public static final String ALGORITHM = "AWS4-HMAC-SHA256";

  /** AWS refuses requests signed more than five minutes before or after its clock. */
  public static final Duration WINDOW = Duration.ofMinutes(5);

  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
  private static final Pattern PARAMETER = Pattern.compile("\\s*([A-Za-z]+)=([^,\\s]*)\\s*");
  private static final Pattern REGION = Pattern.compile("[a-z0-9-]{1,32}");
  private static final Pattern HEX_SIGNATURE = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern SCOPE_DATE = Pattern.compile("[0-9]{8}");
  private static final String MISMATCH =
      "The request signature we calculated does not match the signature you provided. Check your"
          + " AWS Secret Access Key and signing method. Consult the service documentation for"
          + " details.";

  /** Finds the secret access key of the credentials a request claims, or throws why not. */
  @FunctionalInterface
  public interface SecretResolver {
    String secretAccessKey(String accessKeyId, String sessionToken);
  }

  /** The parsed Authorization header. */
  public record Authorization(
      String accessKeyId,
      String date,
      String region,
      String service,
      List<String> signedHeaders,
      String signature) {}

  private final String service;

  /**
   * Derived signing keys by secret, date and region: a client signs every request of a day with the
   * same key, and deriving it is four of the six HMACs of a verification.
   */
  private final Cache<SigningScope, byte[]> signingKeys =
      Caches.onCallingThread()
          .maximumSize(10_000)
          .expireAfterAccess(Duration.ofMinutes(10))
          .build();

  private record SigningScope(String secret, String date, String region) {}

  public SigV4Verifier(String service) {
    this.service = service;
  }

  /**
   * Verifies the request's signature at {@code now}.
   *
   * @return the verified Authorization
   * @throws SignatureException IncompleteSignature or InvalidSignature as AWS answers them; the
   *     resolver's own exceptions pass through
   */
  public Authorization verify(RequestParts request, Instant now, SecretResolver resolver) {
    Authorization authorization = parse(request.header("Authorization"));
    if (!authorization.signedHeaders().contains("host")) {
      throw SignatureException.incomplete(
          "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }
    String amzDate = request.header("X-Amz-Date");
    if (amzDate == null) {
      throw SignatureException.incomplete(
          "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    if (!authorization.signedHeaders().contains("x-amz-date")) {
      throw SignatureException.incomplete(
          "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
    }
    Instant signedAt = parseDate(amzDate);
    if (signedAt.isBefore(now.minus(WINDOW))) {
      throw SignatureException.invalid(
          "Signature expired: "
              + amzDate
              + " is now earlier than "
              + format(now.minus(WINDOW))
              + " ("
              + format(now)
              + " - 5 min.)");
    }
    if (signedAt.isAfter(now.plus(WINDOW))) {
      throw SignatureException.invalid(
          "Signature not yet current: "
              + amzDate
              + " is still later than "
              + format(now.plus(WINDOW))
              + " ("
              + format(now)
              + " + 5 min.)");
    }
    if (!amzDate.startsWith(authorization.date())) {
      throw SignatureException.invalid(
          "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from"
              + " HTTP: '"
              + authorization.date()
              + "' != '"
              + amzDate.substring(0, 8)
              + "', from '"
              + amzDate
              + "'.");
    }
    String payloadHash = hex(Sha256.of(request.body()));
    String claimedHash = request.header("X-Amz-Content-Sha256");
    if (claimedHash != null && !claimedHash.equals(payloadHash)) {
      throw SignatureException.invalid(
          "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    String secret =
        resolver.secretAccessKey(
            authorization.accessKeyId(), request.header("X-Amz-Security-Token"));
    String canonical = canonicalRequest(request, authorization.signedHeaders(), payloadHash);
    String scope =
        authorization.date()
            + "/"
            + authorization.region()
            + "/"
            + authorization.service()
            + "/aws4_request";
    String stringToSign =
        ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + hex(Sha256.ofUtf8(canonical));
    byte[] key =
        signingKeys.get(
            new SigningScope(secret, authorization.date(), authorization.region()),
            k -> signingKey(k.secret(), k.date(), k.region(), service));
    byte[] expected = utf8(hex(SessionKey.hmac(key, stringToSign)));
    if (!MessageDigest.isEqual(expected, utf8(authorization.signature()))) {
      throw SignatureException.invalid(MISMATCH);
    }
    return authorization;
  }

  /** AWS's signing key: HMAC chain from "AWS4" + secret through date, region, service. */
  public static byte[] signingKey(String secret, String date, String region, String service) {
    byte[] key = SessionKey.hmac(utf8("AWS4" + secret), date);
    key = SessionKey.hmac(key, region);
    key = SessionKey.hmac(key, service);
    return SessionKey.hmac(key, "aws4_request");
  }

  Authorization parse(String header) {
    if (header == null || !header.startsWith(ALGORITHM + " ")) {
      throw SignatureException.incomplete(
          "Authorization header must start with '" + ALGORITHM + " '.");
    }
    String credential = null;
    String signedHeaders = null;
    String signature = null;
    for (String part : header.substring(ALGORITHM.length() + 1).split(",")) {
      Matcher m = PARAMETER.matcher(part);
      if (!m.matches()) {
        throw SignatureException.incomplete(
            "Authorization header requires each component to be of the form name=value.");
      }
      switch (m.group(1)) {
        case "Credential" -> credential = m.group(2);
        case "SignedHeaders" -> signedHeaders = m.group(2);
        case "Signature" -> signature = m.group(2);
        default ->
            throw SignatureException.incomplete(
                "Authorization header has an unknown component '" + m.group(1) + "'.");
      }
    }
    List<String> missing = new ArrayList<>();
    if (credential == null) {
      missing.add("Credential");
    }
    if (signedHeaders == null) {
      missing.add("SignedHeaders");
    }
    if (signature == null) {
      missing.add("Signature");
    }
    if (!missing.isEmpty()) {
      throw SignatureException.incomplete(
          "Authorization header requires "
              + String.join(", ", missing.stream().map(p -> "'" + p + "'").toList())
              + " parameter(s).");
    }
    String[] scope = credential.split("/", -1);
    if (scope.length != 5 || scope[0].isEmpty()) {
      throw SignatureException.incomplete(
          "Credential must have exactly 5 slash-delimited elements, e.g."
              + " keyid/date/region/service/term, got '"
              + scope.length
              + "' elements.");
    }
    if (!SCOPE_DATE.matcher(scope[1]).matches()) {
      throw SignatureException.incomplete("Credential date must be in the form YYYYMMDD.");
    }
    if (!REGION.matcher(scope[2]).matches()) {
      throw SignatureException.invalid("Credential should be scoped to a valid region.");
    }
    if (!service.equals(scope[3])) {
      throw SignatureException.invalid(
          "Credential should be scoped to correct service: '" + service + "'.");
    }
    if (!"aws4_request".equals(scope[4])) {
      throw SignatureException.invalid(
          "Credential should be scoped with a valid terminator: 'aws4_request', not '"
              + scope[4]
              + "'.");
    }
    if (!HEX_SIGNATURE.matcher(signature).matches()) {
      throw SignatureException.invalid(MISMATCH);
    }
    List<String> headers = List.of(signedHeaders.split(";"));
    return new Authorization(scope[0], scope[1], scope[2], scope[3], headers, signature);
  }

  /** AWS's canonical request for the signed headers and the payload's hash (hex). */
  static String canonicalRequest(
      RequestParts request, List<String> signedHeaders, String payloadHash) {
    StringBuilder canonical = new StringBuilder();
    canonical.append(request.method()).append('\n');
    canonical.append(canonicalPath(request.path())).append('\n');
    canonical.append(canonicalQuery(request.rawQuery())).append('\n');
    Map<String, List<String>> headers = request.headers();
    for (String name : signedHeaders) {
      List<String> values = headers.getOrDefault(name, List.of());
      canonical.append(name).append(':');
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) {
          canonical.append(',');
        }
        appendTrimmed(canonical, values.get(i));
      }
      canonical.append('\n');
    }
    canonical.append('\n');
    canonical.append(String.join(";", signedHeaders)).append('\n');
    canonical.append(payloadHash);
    return canonical.toString();
  }

  /** A header value as AWS canonicalizes it: trimmed, each run of white space one space. */
  private static void appendTrimmed(StringBuilder out, String value) {
    String trimmed = value.strip();
    boolean space = false;
    for (int i = 0; i < trimmed.length(); i++) {
      char c = trimmed.charAt(i);
      if (c == ' ' || c == '\t' || c == '\n' || c == 0x0b || c == '\f' || c == '\r') {
        space = true;
        continue;
      }
      if (space) {
        out.append(' ');
        space = false;
      }
      out.append(c);
    }
  }

  /**
   * The path as sent, with dot segments and repeated slashes removed, URI-encoded once more: the
   * SDKs sign the already encoded path encoded again (all services but S3).
   */
  static String canonicalPath(String path) {
    if (path == null || path.isEmpty()) {
      return "/";
    }
    Deque<String> segments = new ArrayDeque<>();
    for (String segment : path.split("/")) {
      if (segment.isEmpty() || segment.equals(".")) {
        continue;
      }
      if (segment.equals("..")) {
        segments.pollLast();
      } else {
        segments.addLast(segment);
      }
    }
    StringBuilder out = new StringBuilder();
    for (String segment : segments) {
      out.append('/').append(uriEncode(segment));
    }
    if (out.length() == 0) {
      return "/";
    }
    if (path.endsWith("/")) {
      out.append('/');
    }
    return out.toString();
  }

  /** Parameters decoded, then encoded AWS's way, sorted by name and then value. */
  static String canonicalQuery(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return "";
    }
    List<String[]> pairs = new ArrayList<>();
    for (String parameter : rawQuery.split("&")) {
      if (parameter.isEmpty()) {
        continue;
      }
      int eq = parameter.indexOf('=');
      String name = eq < 0 ? parameter : parameter.substring(0, eq);
      String value = eq < 0 ? "" : parameter.substring(eq + 1);
      pairs.add(new String[] {uriEncode(percentDecode(name)), uriEncode(percentDecode(value))});
    }
    pairs.sort(
        (a, b) -> {
          int byName = a[0].compareTo(b[0]);
          return byName != 0 ? byName : a[1].compareTo(b[1]);
        });
    StringBuilder out = new StringBuilder();
    for (String[] pair : pairs) {
      if (out.length() > 0) {
        out.append('&');
      }
      out.append(pair[0]).append('=').append(pair[1]);
    }
    return out.toString();
  }

  /** RFC 3986 unreserved characters stay; every other UTF-8 byte becomes %XX (upper case). */
  static String uriEncode(String text) {
    StringBuilder out = new StringBuilder();
    for (byte b : utf8(text)) {
      int c = b & 0xff;
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || c == '.'
          || c == '~') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
      }
    }
    return out.toString();
  }

  private static String percentDecode(String text) {
    if (text.indexOf('%') < 0) {
      return text;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] bytes = utf8(text);
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '%' && i + 2 < bytes.length) {
        int hi = Character.digit(bytes[i + 1], 16);
        int lo = Character.digit(bytes[i + 2], 16);
        if (hi >= 0 && lo >= 0) {
          out.write(hi * 16 + lo);
          i += 2;
          continue;
        }
      }
      out.write(bytes[i]);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static Instant parseDate(String amzDate) {
    try {
      return LocalDateTime.parse(amzDate, AMZ_DATE).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      throw SignatureException.incomplete(
          "X-Amz-Date must be in the ISO-8601 basic format YYYYMMDD'T'HHMMSS'Z'.");
    }
  }

  private static String format(Instant instant) {
    return AMZ_DATE.format(instant.atOffset(ZoneOffset.UTC));
  }

  static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
