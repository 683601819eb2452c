package io.keywarden.operator.access.aws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import io.keywarden.operator.access.Caller;
import io.keywarden.operator.config.Caches;
import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.failure.SignatureException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stateless AWS session credentials. The session token is the caller's identity (as TokenReview
 * gave it), an access key id and the expiry, sealed with AES-256-GCM under the primary session key
 * and prefixed by that key's id; the secret access key is an HMAC of the token under the same key.
 * Any replica that holds the key therefore opens any token and recomputes its secret, with nothing
 * stored per credential. Opened tokens are cached briefly; a token is only ever opened, never
 * trusted by its look.
 */
@ApplicationScoped
public class SessionTokens {

  /** What the container-credentials endpoint answers. */
  public record Credentials(
      String accessKeyId, String secretAccessKey, String sessionToken, Instant expiration) {
    @Override
    public String toString() {
      return "Credentials[" + accessKeyId + ", expires " + expiration + ", redacted]";
    }
  }

  /** An opened token: who, under which access key id, until when, and the secret to verify with. */
  public record Session(
      Caller caller, String accessKeyId, Instant expiration, String secretAccessKey) {
    @Override
    public String toString() {
      return "Session[" + caller.username() + ", " + accessKeyId + ", redacted]";
    }
  }

  /** The text AWS answers for a session token it cannot use; SDKs raise UnrecognizedClient. */
  public static final String INVALID_TOKEN =
      "The security token included in the request is invalid.";

  private static final byte VERSION = 1;
  private static final int HEADER_BYTES = 5;
  private static final int SECRET_CHARS = 40;
  private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SessionKeyStore keys;
  private final ObjectMapper json;
  private final Clock clock;
  private final Cache<String, Session> opened =
      Caches.onCallingThread().maximumSize(100_000).expireAfterWrite(Duration.ofMinutes(5)).build();

  @Inject
  public SessionTokens(SessionKeyStore keys, ObjectMapper json) {
    this(keys, json, Clock.systemUTC());
  }

  SessionTokens(SessionKeyStore keys, ObjectMapper json, Clock clock) {
    this.keys = keys;
    this.json = json;
    this.clock = clock;
  }

  /** New credentials for the caller, valid until {@code expiration}. */
  public Credentials issue(Caller caller, Instant expiration) {
    SessionKey key = keys.primary();
    String accessKeyId = newAccessKeyId();
    ObjectNode identity = json.createObjectNode();
    identity.put("a", accessKeyId);
    identity.put("u", caller.username());
    identity.put("i", caller.uid());
    identity.set("g", json.valueToTree(caller.groups()));
    identity.set("x", json.valueToTree(caller.extra()));
    identity.put("t", clock.instant().getEpochSecond());
    identity.put("e", expiration.getEpochSecond());
    byte[] header = ByteBuffer.allocate(HEADER_BYTES).put(VERSION).putInt(key.id()).array();
    AesGcm.Sealed sealed =
        AesGcm.encrypt(key.sealing(), identity.toString().getBytes(StandardCharsets.UTF_8), header);
    byte[] token =
        ByteBuffer.allocate(HEADER_BYTES + sealed.nonce().length + sealed.ciphertext().length)
            .put(header)
            .put(sealed.nonce())
            .put(sealed.ciphertext())
            .array();
    String encoded = Base64.getUrlEncoder().withoutPadding().encodeToString(token);
    return new Credentials(
        accessKeyId,
        secretAccessKey(key, encoded),
        encoded,
        Instant.ofEpochSecond(expiration.getEpochSecond()));
  }

  /**
   * Opens a session token presented with {@code accessKeyId}.
   *
   * @throws SignatureException (UnrecognizedClientException) for a token that does not open with
   *     any key held, or that belongs to another access key id
   * @throws SignatureException (ExpiredTokenException) for a token past its expiry
   */
  public Session open(String accessKeyId, String token) {
    if (token == null || token.isBlank()) {
      throw SignatureException.unrecognized(
          INVALID_TOKEN
              + " Keywarden's AWS credentials are session credentials: send X-Amz-Security-Token.");
    }
    Session session = opened.getIfPresent(token);
    if (session == null) {
      session = decrypt(token);
      opened.put(token, session);
    }
    if (!session.accessKeyId().equals(accessKeyId)) {
      throw SignatureException.unrecognized(INVALID_TOKEN);
    }
    if (!clock.instant().isBefore(session.expiration())) {
      throw SignatureException.expired("The security token included in the request is expired");
    }
    return session;
  }

  private Session decrypt(String token) {
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      throw SignatureException.unrecognized(INVALID_TOKEN);
    }
    if (bytes.length < HEADER_BYTES + AesGcm.NONCE_BYTES + 16 || bytes[0] != VERSION) {
      throw SignatureException.unrecognized(INVALID_TOKEN);
    }
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    buffer.get();
    SessionKey key = keys.byId(buffer.getInt());
    if (key == null) {
      throw SignatureException.unrecognized(INVALID_TOKEN);
    }
    byte[] plaintext;
    try {
      plaintext =
          AesGcm.decrypt(
              key.sealing(),
              Arrays.copyOfRange(bytes, HEADER_BYTES, HEADER_BYTES + AesGcm.NONCE_BYTES),
              Arrays.copyOfRange(bytes, HEADER_BYTES + AesGcm.NONCE_BYTES, bytes.length),
              Arrays.copyOf(bytes, HEADER_BYTES));
    } catch (CorruptEnvelopeException e) {
      throw SignatureException.unrecognized(INVALID_TOKEN);
    }
    try {
      JsonNode identity = json.readTree(plaintext);
      List<String> groups = new ArrayList<>();
      identity.get("g").forEach(g -> groups.add(g.asText()));
      Map<String, List<String>> extra = new LinkedHashMap<>();
      identity
          .get("x")
          .fields()
          .forEachRemaining(
              e -> {
                List<String> values = new ArrayList<>();
                e.getValue().forEach(v -> values.add(v.asText()));
                extra.put(e.getKey(), values);
              });
      Caller caller =
          new Caller(identity.get("u").asText(), identity.get("i").asText(), groups, extra);
      return new Session(
          caller,
          identity.get("a").asText(),
          Instant.ofEpochSecond(identity.get("e").asLong()),
          secretAccessKey(key, token));
    } catch (IOException | RuntimeException e) {
      // Sealed by a replica, so only a bug gets here; still no token in the message.
      throw new IllegalStateException("a sealed AWS session token holds no valid identity", e);
    }
  }

  private static String secretAccessKey(SessionKey key, String token) {
    return Base64.getEncoder()
        .encodeToString(SessionKey.hmac(key.secrets(), token))
        .substring(0, SECRET_CHARS);
  }

  /** AWS's shape for temporary credentials: ASIA and 16 base32 characters. */
  private static String newAccessKeyId() {
    byte[] random = new byte[10];
    RANDOM.nextBytes(random);
    StringBuilder id = new StringBuilder("ASIA");
    long bits = 0;
    int count = 0;
    for (byte b : random) {
      bits = (bits << 8) | (b & 0xff);
      count += 8;
      while (count >= 5) {
        id.append(BASE32[(int) (bits >>> (count - 5)) & 31]);
        count -= 5;
      }
    }
    return id.toString();
  }
}
