package io.keywarden.operator.access;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.failure.AccessDeniedException;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Bearer tokens are checked with TokenReview for the audience keywarden.io, so a token minted for
 * another service is refused. Successful reviews are cached by a digest of the token (never the
 * token itself) for a short time and never beyond the token's expiry.
 */
@ApplicationScoped
public class TokenAuthenticator {

  private record Cached(Caller caller, Instant expires) {}

  private final KubernetesClient client;
  private final String audience;
  private final Duration ttl;
  private final ObjectMapper json;
  private final Cache<ByteBuffer, Cached> cache;

  public TokenAuthenticator(KubernetesClient client, KeywardenConfig config, ObjectMapper json) {
    this.client = client;
    this.audience = config.api().audience();
    this.ttl = config.api().tokenCacheTtl();
    this.json = json;
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(100_000)
            .recordStats()
            .expireAfter(
                new Expiry<ByteBuffer, Cached>() {
                  @Override
                  public long expireAfterCreate(ByteBuffer key, Cached value, long now) {
                    return Math.max(0, Duration.between(Instant.now(), value.expires()).toNanos());
                  }

                  @Override
                  public long expireAfterUpdate(
                      ByteBuffer key, Cached value, long now, long current) {
                    return expireAfterCreate(key, value, now);
                  }

                  @Override
                  public long expireAfterRead(
                      ByteBuffer key, Cached value, long now, long current) {
                    return current;
                  }
                })
            .build();
  }

  public Caller authenticate(String token) {
    if (token == null || token.isBlank()) {
      throw new AccessDeniedException(
          false,
          "missing bearer token: send Authorization: Bearer <ServiceAccount token with audience "
              + audience
              + ">");
    }
    ByteBuffer key = digest(token);
    Cached cached = cache.getIfPresent(key);
    if (cached != null && cached.expires().isAfter(Instant.now())) {
      return cached.caller();
    }
    TokenReview review =
        client
            .resource(
                new TokenReviewBuilder()
                    .withNewSpec()
                    .withToken(token)
                    .withAudiences(audience)
                    .endSpec()
                    .build())
            .create();
    var status = review.getStatus();
    if (status == null || !Boolean.TRUE.equals(status.getAuthenticated())) {
      String why =
          status == null || status.getError() == null ? "not authenticated" : status.getError();
      throw new AccessDeniedException(
          false, "token rejected by TokenReview for audience " + audience + ": " + why);
    }
    if (status.getAudiences() == null || !status.getAudiences().contains(audience)) {
      throw new AccessDeniedException(false, "token is not bound to audience " + audience);
    }
    UserInfo user = status.getUser();
    Caller caller =
        new Caller(
            user.getUsername(),
            user.getUid() == null ? "" : user.getUid(),
            user.getGroups() == null ? List.of() : user.getGroups(),
            user.getExtra() == null ? Map.of() : user.getExtra());
    Instant expires = Instant.now().plus(ttl);
    Instant tokenExpiry = expiry(token);
    if (tokenExpiry != null && tokenExpiry.isBefore(expires)) {
      expires = tokenExpiry;
    }
    cache.put(key, new Cached(caller, expires));
    return caller;
  }

  public Cache<ByteBuffer, ?> cache() {
    return cache;
  }

  /**
   * The exp claim of a JWT, read without verification: only to bound what is derived from a token
   * that TokenReview has already verified (the cache, issued AWS credentials); null when absent.
   */
  public Instant expiry(String token) {
    String[] parts = token.split("\\.");
    if (parts.length < 2) {
      return null;
    }
    try {
      JsonNode claims = json.readTree(Base64.getUrlDecoder().decode(parts[1]));
      return claims.has("exp") ? Instant.ofEpochSecond(claims.get("exp").asLong()) : null;
    } catch (Exception e) {
      return null;
    }
  }

  private static ByteBuffer digest(String token) {
    try {
      return ByteBuffer.wrap(
          MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
