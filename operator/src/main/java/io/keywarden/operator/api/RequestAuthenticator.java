package io.keywarden.operator.api;

import io.keywarden.operator.access.Caller;
import io.keywarden.operator.access.TokenAuthenticator;
import io.keywarden.operator.access.aws.RequestParts;
import io.keywarden.operator.access.aws.SessionTokens;
import io.keywarden.operator.access.aws.SigV4Verifier;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.failure.AccessDeniedException;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The one place that turns a request into a {@link Caller}. {@code Authorization: Bearer <token>}:
 * TokenReview for the audience keywarden.io. {@code Authorization: AWS4-HMAC-SHA256 ...}: SigV4 by
 * credentials this API issued (container-credentials endpoint), whose session token carries the
 * ServiceAccount's identity. Either way authorization is SubjectAccessReview afterwards.
 */
@ApplicationScoped
public class RequestAuthenticator {

  /** The SigV4 signing name of AWS Secrets Manager, which the SDKs put in the credential scope. */
  public static final String SIGNING_NAME = "secretsmanager";

  private final TokenAuthenticator tokens;
  private final SessionTokens sessions;
  private final Duration maxLifetime;
  private final SigV4Verifier verifier = new SigV4Verifier(SIGNING_NAME);
  private final Clock clock;

  @Inject
  public RequestAuthenticator(
      TokenAuthenticator tokens, SessionTokens sessions, KeywardenConfig config) {
    this(tokens, sessions, config.api().awsCredentials().maxLifetime(), Clock.systemUTC());
  }

  RequestAuthenticator(
      TokenAuthenticator tokens, SessionTokens sessions, Duration maxLifetime, Clock clock) {
    this.tokens = tokens;
    this.sessions = sessions;
    this.maxLifetime = maxLifetime;
    this.clock = clock;
  }

  /** The {@code receivedAt} of a request arriving now. */
  public Instant now() {
    return clock.instant();
  }

  /**
   * Who sent this API request, which arrived at {@code receivedAt}. A SigV4 signature is judged
   * against that instant, as AWS judges it on arrival: a long-poll answered minutes later (up to
   * 300 s) is not refused as "Signature expired". Its session credentials, like a bearer token's
   * review, are checked as of now, so a wait does not outlive them.
   */
  public Caller authenticate(RoutingContext ctx, Instant receivedAt) {
    String header = ctx.request().getHeader("Authorization");
    if (header != null && header.startsWith(SigV4Verifier.ALGORITHM + " ")) {
      return authenticate(parts(ctx), receivedAt);
    }
    return tokens.authenticate(bearer(header));
  }

  /**
   * The caller of a bearer token reviewed before and still cached; null when that needs a
   * TokenReview or the request is SigV4-signed (its session keys are opened on the pool). Never
   * blocks (for the event loop); throws like {@link #authenticate} when there is no token.
   */
  public Caller authenticateIfCached(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header != null && header.startsWith(SigV4Verifier.ALGORITHM + " ")) {
      return null;
    }
    return tokens.authenticateIfCached(bearer(header));
  }

  /**
   * The caller of a bearer token, reviewed off the calling thread when not cached; null (completed)
   * for a SigV4-signed request, whose session keys are opened where it is answered. Never blocks.
   */
  public CompletableFuture<Caller> authenticateAsync(RoutingContext ctx) {
    return authenticateAsync(ctx.request().getHeader("Authorization"));
  }

  /**
   * {@link #authenticateAsync(RoutingContext)} by the request's {@code Authorization} header. A
   * cached review read in the last quarter of its life is renewed in the background, so reading one
   * now and then keeps it from running out (see {@link WaiterReviews}).
   */
  public CompletableFuture<Caller> authenticateAsync(String header) {
    if (header != null && header.startsWith(SigV4Verifier.ALGORITHM + " ")) {
      return CompletableFuture.completedFuture(null);
    }
    try {
      return tokens.authenticateAsync(bearer(header));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** {@link #authenticate(RoutingContext, Instant)} for the parts a signature covers. */
  public Caller authenticate(RequestParts request, Instant receivedAt) {
    String header = request.header("Authorization");
    if (header == null || !header.startsWith(SigV4Verifier.ALGORITHM + " ")) {
      return tokens.authenticate(bearer(header));
    }
    SessionTokens.Session[] session = new SessionTokens.Session[1];
    verifier.verify(
        request,
        receivedAt,
        (accessKeyId, sessionToken) -> {
          session[0] = sessions.open(accessKeyId, sessionToken);
          return session[0].secretAccessKey();
        });
    return session[0].caller();
  }

  /**
   * The container-credentials endpoint's check: {@code Authorization} is the projected token file's
   * content verbatim (what the SDKs send), a {@code Bearer } prefix is accepted too.
   */
  public Caller authenticateContainerToken(RoutingContext ctx) {
    return tokens.authenticate(containerToken(ctx));
  }

  /**
   * Credentials for a caller the container token authenticated; they expire with the token, and
   * after {@code keywarden.api.aws-credentials.max-lifetime} at the latest.
   */
  public SessionTokens.Credentials credentials(RoutingContext ctx, Caller caller) {
    Instant now = clock.instant();
    Instant expiration = now.plus(maxLifetime);
    Instant tokenExpiry = tokens.expiry(containerToken(ctx));
    if (tokenExpiry != null && tokenExpiry.isBefore(expiration)) {
      expiration = tokenExpiry;
    }
    if (!expiration.isAfter(now)) {
      throw new AccessDeniedException(false, "the ServiceAccount token has expired");
    }
    return sessions.issue(caller, expiration);
  }

  private static String containerToken(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null) {
      throw new AccessDeniedException(
          false,
          "missing token: send the projected ServiceAccount token (audience keywarden.io) as"
              + " Authorization, as AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE makes the AWS SDKs do");
    }
    String bearer = bearer(header);
    return (bearer != null ? bearer : header).strip();
  }

  private static String bearer(String header) {
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    return header.substring(7).strip();
  }

  /**
   * The request as a signature covers it. Under HTTP/2 the host is the :authority pseudo-header,
   * which the SDKs sign as {@code host}.
   */
  static RequestParts parts(RoutingContext ctx) {
    Map<String, List<String>> headers = new HashMap<>();
    ctx.request()
        .headers()
        .forEach(
            e ->
                headers
                    .computeIfAbsent(e.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(e.getValue()));
    HostAndPort authority = ctx.request().authority();
    if (!headers.containsKey("host") && authority != null) {
      headers.put(
          "host",
          List.of(authority.host() + (authority.port() >= 0 ? ":" + authority.port() : "")));
    }
    byte[] body =
        ctx.body() == null || ctx.body().buffer() == null
            ? new byte[0]
            : ctx.body().buffer().getBytes();
    return new RequestParts(
        ctx.request().method().name(), ctx.request().path(), ctx.request().query(), headers, body);
  }
}
