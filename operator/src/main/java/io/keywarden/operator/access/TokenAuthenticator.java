package io.keywarden.operator.access;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Expiry;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.operator.config.Caches;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.Sha256;
import io.keywarden.operator.failure.AccessDeniedException;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bearer tokens are checked with TokenReview for the audience keywarden.io, so a token minted for
 * another service is refused. Successful reviews are cached by a digest of the token (never the
 * token itself) for a short time and never beyond the token's expiry; a token in use is reviewed
 * again ahead of its entry's expiry, in the background.
 */
@ApplicationScoped
public class TokenAuthenticator {

  /**
   * A successful review: served until {@code expires}; reviewed again from {@code refreshAt} on,
   * unless the token itself expires first (a new review could not extend the entry).
   */
  private record Cached(
      Caller caller,
      Instant expires,
      Instant refreshAt,
      boolean tokenOutlivesEntry,
      AtomicBoolean refreshing) {}

  private final KubernetesClient client;
  private final String audience;
  private final Duration ttl;
  private final ObjectMapper json;
  private final Cache<ByteBuffer, Cached> cache;
  private final Map<ByteBuffer, CompletableFuture<Caller>> underReview = new ConcurrentHashMap<>();

  public TokenAuthenticator(KubernetesClient client, KeywardenConfig config, ObjectMapper json) {
    this.client = client;
    this.audience = config.api().audience();
    this.ttl = config.api().tokenCacheTtl();
    this.json = json;
    this.cache =
        Caches.onCallingThread()
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
    requirePresent(token);
    ByteBuffer key = digest(token);
    Cached cached = usable(key, token);
    return cached != null ? cached.caller() : review(key, token);
  }

  /**
   * The caller of a token reviewed before and still cached, or null when a TokenReview is needed;
   * never blocks (for the event loop). Throws like {@link #authenticate} when there is no token.
   */
  public Caller authenticateIfCached(String token) {
    requirePresent(token);
    Cached cached = usable(digest(token), token);
    return cached == null ? null : cached.caller();
  }

  /**
   * The caller of a token, its TokenReview (when not cached) asked on the refresh threads: for
   * answers that can wait for it without holding a request thread. Completes exceptionally like
   * {@link #authenticate} throws.
   */
  public CompletableFuture<Caller> authenticateAsync(String token) {
    try {
      requirePresent(token);
      ByteBuffer key = digest(token);
      Cached cached = usable(key, token);
      if (cached != null) {
        return CompletableFuture.completedFuture(cached.caller());
      }
      // One review per token at a time: the waiters a put wakes, or the sweeps of waiting tokens
      // while the API server does not answer, would otherwise each queue one of their own. Each
      // caller gets a copy, so none can cancel or complete the review for the others.
      CompletableFuture<Caller> started = new CompletableFuture<>();
      CompletableFuture<Caller> review = underReview.putIfAbsent(key, started);
      if (review != null) {
        return review.copy();
      }
      try {
        Refreshes.EXECUTOR.execute(() -> review(key, token, started));
      } catch (RejectedExecutionException e) {
        underReview.remove(key, started);
        started.completeExceptionally(e);
      }
      return started.copy();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Completes a shared review. Its entry goes before it completes: a caller woken by the completion
   * then asks again rather than being handed the finished review (a success is cached by then, a
   * refusal must not be). Whatever is thrown completes it, so no caller waits forever.
   */
  private void review(ByteBuffer key, String token, CompletableFuture<Caller> started) {
    Caller caller = null;
    Throwable failure = null;
    try {
      caller = authenticate(token);
    } catch (Throwable t) {
      failure = t;
    } finally {
      underReview.remove(key, started);
    }
    if (failure == null) {
      started.complete(caller);
    } else {
      started.completeExceptionally(failure);
      if (failure instanceof Error error) {
        throw error;
      }
    }
  }

  private void requirePresent(String token) {
    if (token == null || token.isBlank()) {
      throw new AccessDeniedException(
          false,
          "missing bearer token: send Authorization: Bearer <ServiceAccount token with audience "
              + audience
              + ">");
    }
  }

  /**
   * A cached review that has not expired. A read in the last quarter of its life starts a new
   * TokenReview in the background with the token of the request at hand (the cache holds only a
   * digest, so nothing else could), so a token in use does not drop out of the cache and no request
   * waits for a review at expiry. A token the new review rejects is dropped from the cache.
   */
  private Cached usable(ByteBuffer key, String token) {
    Cached cached = cache.getIfPresent(key);
    Instant now = Instant.now();
    if (cached == null || !cached.expires().isAfter(now)) {
      return null;
    }
    if (cached.tokenOutlivesEntry()
        && now.isAfter(cached.refreshAt())
        && cached.refreshing().compareAndSet(false, true)) {
      try {
        Refreshes.EXECUTOR.execute(
            () -> {
              try {
                review(key, token);
              } catch (AccessDeniedException e) {
                cache.invalidate(key);
              } catch (RuntimeException e) {
                // The API server did not answer: the entry serves until its expiry, then the next
                // request reviews the token itself.
                cached.refreshing().set(false);
              }
            });
      } catch (RejectedExecutionException e) {
        cached.refreshing().set(false);
      }
    }
    return cached;
  }

  private Caller review(ByteBuffer key, String token) {
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
    Instant now = Instant.now();
    Instant expires = now.plus(ttl);
    Instant tokenExpiry = expiry(token);
    boolean tokenOutlivesEntry = tokenExpiry == null || tokenExpiry.isAfter(expires);
    if (!tokenOutlivesEntry) {
      expires = tokenExpiry;
    }
    Instant refreshAt = now.plus(ttl.multipliedBy(3).dividedBy(4));
    cache.put(key, new Cached(caller, expires, refreshAt, tokenOutlivesEntry, new AtomicBoolean()));
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
    return ByteBuffer.wrap(Sha256.ofUtf8(token));
  }
}
