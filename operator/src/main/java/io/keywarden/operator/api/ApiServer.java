package io.keywarden.operator.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.GenerateSpec;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.operator.access.AccessReviewer;
import io.keywarden.operator.access.Caller;
import io.keywarden.operator.access.TokenAuthenticator;
import io.keywarden.operator.access.aws.SessionTokens;
import io.keywarden.operator.api.tls.ApiCertificates;
import io.keywarden.operator.api.tls.ApiTlsEngine;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.failure.AccessDeniedException;
import io.keywarden.operator.failure.Failure;
import io.keywarden.operator.failure.RequestException;
import io.keywarden.operator.failure.SignatureException;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.operator.versions.DeletedSecrets;
import io.keywarden.operator.versions.EnvelopeCipher;
import io.keywarden.operator.versions.SecretVersions;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.lang3.concurrent.BasicThreadFactory;
import org.jboss.logging.Logger;

/**
 * The HTTPS secret-value API on its own port (HTTP/2 and HTTP/1.1), apart from the plain health and
 * metrics port, served by one HTTP server per event loop. A GetSecretValue whose token, decision
 * and data key are cached is answered on the event loop (microseconds of CPU, nothing to wait for);
 * everything that may block (TokenReview, SubjectAccessReview, SigV4 session keys, KMS, writes)
 * runs on a bounded pool, and a full pool answers 503 with Retry-After instead of queueing without
 * end.
 */
@ApplicationScoped
public class ApiServer {

  private static final Logger LOG = Logger.getLogger(ApiServer.class);
  private static final String PREFIX = "/v1/namespaces/:namespace/managedsecrets/:name";

  /** Where AWS_CONTAINER_CREDENTIALS_FULL_URI points the AWS SDKs. */
  public static final String AWS_CREDENTIALS_PATH = "/v1/aws/credentials";

  private static final int MAX_TIMEOUT_SECONDS = 300;
  // Audit entries waiting for the writer thread: about two seconds at 50,000 requests/s.
  private static final int AUDIT_QUEUE = 100_000;
  // A woken long-poll that found no thread for this long is told to come back (503).
  private static final long WAKE_UP_MAX_WAIT_MILLIS = 5_000;
  // Jackson's message for StreamReadFeature.STRICT_DUPLICATE_DETECTION.
  private static final Pattern DUPLICATE_FIELD = Pattern.compile("Duplicate field '([^']{1,64})'");

  private final KeywardenConfig config;
  private final KubernetesClient client;
  private final Vertx vertx;
  private final TokenAuthenticator authenticator;
  private final RequestAuthenticator requests;
  private final AccessReviewer reviewer;
  private final SecretVersions versions;
  private final DeletedSecrets deletedSecrets;
  private final CiphertextStore store;
  private final EnvelopeCipher cipher;
  private final MeterRegistry registry;
  private final ObjectMapper json;
  private final AuditLog audit;
  private final ApiMetrics metrics;
  private final ChangeWaiters waiters;
  private Counter wokenOnEventLoop;
  private Counter wokenAfterReview;
  private Counter wokenOnPool;
  private final ApiCertificates certificates;
  private final AtomicBoolean listening = new AtomicBoolean();
  private final ObjectMapper restJson;
  private final ObjectMapper awsJsonMapper;
  private SecretCatalog catalog;
  private SecretValueApi api;
  private AwsJsonProtocol awsJson;
  private AccessMetrics accessMetrics;
  private ThreadPoolExecutor pool;
  private WakeUps wakeUps;
  private WaiterReviews reviews;
  private ScheduledExecutorService sweeper;
  private ApiHttpServers servers;

  public ApiServer(
      KeywardenConfig config,
      KubernetesClient client,
      Vertx vertx,
      TokenAuthenticator authenticator,
      RequestAuthenticator requests,
      AccessReviewer reviewer,
      SecretVersions versions,
      DeletedSecrets deletedSecrets,
      CiphertextStore store,
      EnvelopeCipher cipher,
      MeterRegistry registry,
      ObjectMapper json,
      ApiCertificates certificates) {
    this.config = config;
    this.client = client;
    this.vertx = vertx;
    this.authenticator = authenticator;
    this.requests = requests;
    this.reviewer = reviewer;
    this.versions = versions;
    this.deletedSecrets = deletedSecrets;
    this.store = store;
    this.cipher = cipher;
    this.registry = registry;
    this.json = json;
    this.restJson = Rendering.REST.mapper(json);
    this.awsJsonMapper = Rendering.AWS_JSON.mapper(json);
    this.audit = new AuditLog(json, AUDIT_QUEUE);
    this.metrics = new ApiMetrics(registry);
    this.waiters = new ChangeWaiters(config.api().maxWaiters());
    this.certificates = certificates;
  }

  void start(@Observes StartupEvent event) {
    if (!config.api().enabled()) {
      return;
    }
    catalog = new SecretCatalog(client, store, this::currentChanged);
    api =
        new SecretValueApi(
            client,
            catalog,
            versions,
            deletedSecrets,
            reviewer,
            json,
            config.aws().region(),
            config.aws().accountId());
    awsJson = new AwsJsonProtocol(api);
    pool =
        new ThreadPoolExecutor(
            config.api().workerThreads(),
            config.api().workerThreads(),
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(config.api().maxQueued()),
            BasicThreadFactory.builder().namingPattern("keywarden-api-%d").daemon(true).build());
    wakeUps =
        new WakeUps(
            pool,
            Math.max(1, config.api().workerThreads() / 2),
            WAKE_UP_MAX_WAIT_MILLIS,
            task -> vertx.setTimer(20, t -> task.run()));
    reviews = new WaiterReviews(requests::authenticateAsync);
    // Looks at the waiting tokens' reviews eight times per review life, so that a look falls into
    // the first half of its last quarter, where it is renewed in the background, even when the
    // timer fires late and the review takes a while: woken, a waiter finds it cached. Every
    // quarter was not enough: the one look due in the last quarter could fall at its very end, and
    // fired a little late (or renewed slowly) it came after the expiry (CI, under load).
    // A thread of its own: a sweep digests every distinct waiting token, too much for an event
    // loop with thousands of pods, and on the request pool it would be skipped when that is full.
    long sweepMillis = Math.max(250, config.api().tokenCacheTtl().toMillis() / 8);
    sweeper =
        Executors.newSingleThreadScheduledExecutor(
            BasicThreadFactory.builder()
                .namingPattern("keywarden-waiter-reviews")
                .daemon(true)
                .build());
    sweeper.scheduleWithFixedDelay(
        () -> {
          try {
            reviews.sweep();
          } catch (RuntimeException e) {
            LOG.warnf(
                e, "looking at waiting tokens' reviews failed; next look in %d ms", sweepMillis);
          }
        },
        sweepMillis,
        sweepMillis,
        TimeUnit.MILLISECONDS);
    registerMetrics();
    accessMetrics = new AccessMetrics(registry, catalog, waiters);

    ApiTlsEngine tlsEngine = ApiTlsEngine.choose(config.api().tls().engine());
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(config.api().host())
            .setPort(config.api().port())
            .setSsl(true)
            .setUseAlpn(true)
            .setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
            // Asked on every handshake: a renewed or reloaded certificate needs no restart.
            .setKeyCertOptions(KeyCertOptions.wrap(certificates.start()))
            .setIdleTimeout(MAX_TIMEOUT_SECONDS + 60)
            .setIdleTimeoutUnit(TimeUnit.SECONDS);
    tlsEngine.applyTo(options);
    if (tlsEngine.fellBack()) {
      LOG.warnf("secret-value API serves with the JDK's TLS: %s", tlsEngine.description());
    }
    int eventLoops = config.api().eventLoops().orElse(ApiHttpServers.defaultInstances());
    if (eventLoops < 1) {
      throw new IllegalStateException(
          "keywarden.api.event-loops must be at least 1 (is " + eventLoops + ")");
    }
    servers = new ApiHttpServers(vertx);
    servers.listen(options, router(), eventLoops);
    listening.set(true);
    LOG.infof(
        "secret-value API listening on https://%s:%d (%d event loops, TLS: %s)",
        config.api().host(), config.api().port(), eventLoops, tlsEngine.description());
  }

  void stop(@Observes ShutdownEvent event) {
    if (sweeper != null) {
      sweeper.shutdownNow();
    }
    if (servers != null) {
      servers.close();
      pool.shutdownNow();
      catalog.close();
      audit.close();
    }
  }

  public boolean ready() {
    return listening.get() && catalog != null && catalog.synced();
  }

  private Router router() {
    Router router = Router.router(vertx);
    // The value limit counts bytes of the value; its JSON may be up to six times longer (every byte
    // a \\u00XX escape), so the body limit leaves room for that and the other fields.
    router.route().handler(BodyHandler.create().setBodyLimit(6L * 65_536 + 16_384));
    router
        .get(PREFIX + "/value")
        .handler(
            ctx -> {
              if (ctx.queryParams().contains("waitForChange")) {
                longPoll(ctx);
              } else {
                getValue(ctx);
              }
            });
    router
        .put(PREFIX + "/value")
        .handler(
            ctx ->
                rest(
                    ctx,
                    "PutSecretValue",
                    caller -> {
                      var answer =
                          api.putValue(
                              caller, secretId(ctx), SecretValueApi.putRequest(parse(ctx)));
                      return new Result(200, answer, answer.versionId());
                    }));
    router
        .get(PREFIX + "/versions")
        .handler(
            ctx ->
                rest(
                    ctx,
                    "ListSecretVersionIds",
                    caller ->
                        new Result(
                            200,
                            // REST lists every version, deprecated ones too, on one page.
                            api.listVersions(caller, secretId(ctx), true, Integer.MAX_VALUE, null),
                            null)));
    router
        .post(PREFIX + "/rotate")
        .handler(
            ctx ->
                rest(
                    ctx,
                    "RotateSecret",
                    caller -> new Result(202, api.rotate(caller, secretId(ctx), null), null)));
    router
        .delete(PREFIX)
        .handler(
            ctx ->
                rest(
                    ctx,
                    "DeleteSecret",
                    caller -> {
                      String window = ctx.queryParams().get("recoveryWindowInDays");
                      String force = ctx.queryParams().get("forceDeleteWithoutRecovery");
                      return new Result(
                          200,
                          api.delete(
                              caller,
                              secretId(ctx),
                              recoveryWindowDays(window, force),
                              "true".equals(force)),
                          null);
                    }));
    router
        .post(PREFIX + "/restore")
        .handler(
            ctx ->
                rest(
                    ctx,
                    "RestoreSecret",
                    caller -> new Result(200, api.restore(caller, secretId(ctx)), null)));
    router
        .get(PREFIX)
        .handler(
            ctx ->
                rest(
                    ctx,
                    "DescribeSecret",
                    caller -> new Result(200, api.describe(caller, secretId(ctx)), null)));
    router
        .get("/v1/random-password")
        .handler(
            ctx ->
                rest(
                    ctx,
                    "GetRandomPassword",
                    caller -> new Result(200, api.randomPassword(passwordSpec(ctx)), null)));
    // AWS Secrets Manager's awsJson1.1: every operation is POST / with X-Amz-Target.
    router
        .post("/")
        .handler(
            ctx -> {
              String target = ctx.request().getHeader("X-Amz-Target");
              blocking(
                  new Request(ctx, AwsJsonProtocol.action(target), Rendering.AWS_JSON),
                  (caller, request) -> {
                    var answer = awsJson.handle(target, caller, parse(ctx), request::about);
                    return new Result(200, answer.body(), answer.versionId());
                  });
            });
    router
        .get(AWS_CREDENTIALS_PATH)
        .handler(
            ctx ->
                blocking(
                    new Request(
                        ctx,
                        "GetAwsCredentials",
                        Rendering.REST,
                        requests::authenticateContainerToken),
                    (caller, request) ->
                        new Result(200, credentials(requests.credentials(ctx, caller)), null)));
    router
        .route()
        .last()
        .handler(
            ctx -> {
              ApiError error =
                  ApiError.of(
                      RequestException.unknownOperation(
                          "no such operation: "
                              + ctx.request().method()
                              + " "
                              + ctx.request().path()));
              endWithError(ctx, error);
            });
    router
        .route()
        .failureHandler(
            ctx -> {
              int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
              ApiError error =
                  ApiError.of(
                      status == 413
                          ? RequestException.tooLarge("the request body is larger than the limit")
                          : status == 400
                              ? RequestException.invalidRequest("the request cannot be read")
                              : ctx.failure());
              endWithError(ctx, error);
            });
    return router;
  }

  /** An error answered before any operation ran, in the protocol the request speaks. */
  private void endWithError(RoutingContext ctx, ApiError error) {
    Rendering rendering = rendering(ctx);
    ctx.response()
        .setStatusCode(rendering.status(error))
        .putHeader("Content-Type", rendering.contentType())
        .end(Buffer.buffer(Rendering.error(json, error)));
  }

  private static Rendering rendering(RoutingContext ctx) {
    return ctx.request().getHeader("X-Amz-Target") != null ? Rendering.AWS_JSON : Rendering.REST;
  }

  /** An answer: its status, the shape to render, and the version it is about (for the audit). */
  private record Result(int status, Object body, String versionId) {}

  /** DeleteSecret's REST query: recoveryWindowInDays (7 to 30) or forceDeleteWithoutRecovery. */
  private static Integer recoveryWindowDays(String window, String force) {
    if (force != null && !force.equals("true") && !force.equals("false")) {
      throw RequestException.invalidParameter(
          "forceDeleteWithoutRecovery must be true or false, not '" + force + "'");
    }
    if (window == null) {
      return null;
    }
    if ("true".equals(force)) {
      throw RequestException.invalidParameter(
          "set at most one of recoveryWindowInDays and forceDeleteWithoutRecovery");
    }
    try {
      int days = Integer.parseInt(window);
      if (days >= 7 && days <= 30) {
        return days;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw RequestException.invalidParameter(
        "recoveryWindowInDays must be a whole number from 7 to 30, not '" + window + "'");
  }

  /** The container-credentials answer the AWS SDKs read. */
  private ObjectNode credentials(SessionTokens.Credentials credentials) {
    ObjectNode body = json.createObjectNode();
    body.put("AccessKeyId", credentials.accessKeyId());
    body.put("SecretAccessKey", credentials.secretAccessKey());
    body.put("Token", credentials.sessionToken());
    body.put("Expiration", credentials.expiration().toString());
    return body;
  }

  private interface Operation {
    Result apply(Caller caller, Request request);
  }

  private interface RestOperation {
    Result apply(Caller caller);
  }

  /**
   * REST GetSecretValue: answered on the event loop when everything it needs is cached, otherwise
   * on the pool.
   */
  private void getValue(RoutingContext ctx) {
    Request request = new Request(ctx, "GetSecretValue", Rendering.REST);
    String versionId = ctx.queryParams().get("versionId");
    Outcome cached =
        request.runIfCached(
            caller ->
                value(
                    api.getValueIfCached(
                        caller,
                        secretId(ctx),
                        stage(ctx.queryParams().get("versionStage")),
                        versionId)));
    if (cached != null) {
      request.respond(cached);
    } else {
      blocking(
          request,
          (caller, r) ->
              value(
                  api.getValue(
                      caller,
                      secretId(ctx),
                      stage(ctx.queryParams().get("versionStage")),
                      versionId)));
    }
  }

  private static VersionStage stage(String versionStage) {
    return versionStage == null ? null : VersionStage.parseRest("versionStage", versionStage);
  }

  /** A GetSecretValue answer as a result; null (not answered from caches) stays null. */
  private static Result value(Shapes.SecretValueEntry answer) {
    return answer == null ? null : new Result(200, answer, answer.versionId());
  }

  private void rest(RoutingContext ctx, String action, RestOperation operation) {
    blocking(
        new Request(ctx, action, Rendering.REST), (caller, request) -> operation.apply(caller));
  }

  /** Runs an operation off the event loop with authentication, audit, metrics and error mapping. */
  private void blocking(Request request, Operation operation) {
    Context context = vertx.getOrCreateContext();
    try {
      pool.execute(
          () -> {
            Outcome outcome = request.run(operation);
            context.runOnContext(v -> request.respond(outcome));
          });
    } catch (RejectedExecutionException e) {
      request.respond(request.failure(overloaded()));
    }
  }

  /**
   * GetSecretValue with waitForChange: answers as soon as CURRENT differs, or 304 at the timeout.
   */
  private void longPoll(RoutingContext ctx) {
    String known = ctx.queryParams().get("waitForChange");
    int timeout;
    try {
      timeout =
          Integer.parseInt(
              ctx.queryParams().get("timeoutSeconds") == null
                  ? "60"
                  : ctx.queryParams().get("timeoutSeconds"));
    } catch (NumberFormatException e) {
      timeout = -1;
    }
    String stage = ctx.queryParams().get("versionStage");
    Request request = new Request(ctx, "GetSecretValue", Rendering.REST);
    if (timeout < 1
        || timeout > MAX_TIMEOUT_SECONDS
        || (stage != null && !"CURRENT".equals(stage))
        || ctx.queryParams().contains("versionId")) {
      request.respond(
          request.failure(
              ApiException.badRequest(
                  "waitForChange needs timeoutSeconds between 1 and "
                      + MAX_TIMEOUT_SECONDS
                      + " and works on the CURRENT stage only")));
      return;
    }
    int seconds = timeout;
    Context context = vertx.getOrCreateContext();
    String ns = ns(ctx);
    String name = name(ctx);
    try {
      pool.execute(
          () -> {
            Outcome first =
                request.run(
                    (caller, r) -> {
                      api.authorize(caller, "get", ns, name, "value");
                      String current = api.currentVersion(ns, name);
                      if (current != null && !current.equals(known)) {
                        var answer = api.getValue(caller, SecretId.of(ns, name), null, null);
                        return new Result(200, answer, answer.versionId());
                      }
                      return null;
                    });
            context.runOnContext(
                v -> {
                  if (first.result() != null || first.error() != null) {
                    request.respond(first);
                    return;
                  }
                  waitForChange(request, context, ns, name, known, seconds);
                });
          });
    } catch (RejectedExecutionException e) {
      request.respond(request.failure(overloaded()));
    }
  }

  private void waitForChange(
      Request request, Context context, String ns, String name, String known, int seconds) {
    if (request.ctx.response().closed()) {
      return; // gone while the first check ran: nothing would ever take its registration back
    }
    AtomicBoolean done = new AtomicBoolean();
    long[] timer = new long[1];
    String authorization = request.ctx.request().getHeader("Authorization");
    ChangeWaiters.Waiter[] registered = new ChangeWaiters.Waiter[1];
    WaiterReviews.Waiting reviewed =
        refusal ->
            context.runOnContext(
                v -> {
                  if (done.compareAndSet(false, true)) {
                    vertx.cancelTimer(timer[0]);
                    waiters.remove(ns, name, registered[0]);
                    request.respond(request.failure(refusal));
                  }
                });
    ContextInternal own = (ContextInternal) context;
    Executor loop = own.nettyEventLoop();
    ChangeWaiters.Waiter waiter =
        new ChangeWaiters.Waiter() {
          @Override
          public Executor loop() {
            return loop;
          }

          @Override
          public void changed() {
            // Already on the context's loop (ChangeWaiters calls it there): answered within the
            // batch, not queued once more behind it.
            own.emit(
                v -> {
                  if (done.compareAndSet(false, true)) {
                    vertx.cancelTimer(timer[0]);
                    reviews.remove(authorization, reviewed);
                    // With the caller's token, decision and the new version's data key cached,
                    // answered right here. A waiter usually outlived its cached decision (and a
                    // long one its token review): those are asked for first, all woken waiters'
                    // at once on the refresh threads, then the answer is tried here again. A
                    // rotation wakes every pod that watches the secret, each with its own token
                    // and decision key; asking them one per wake-up drainer queued them.
                    SecretId id = SecretId.of(ns, name);
                    if (answerFromCaches(request, id)) {
                      wokenOnEventLoop.increment();
                    } else {
                      requests
                          .authenticateAsync(request.ctx)
                          .thenCompose(
                              caller ->
                                  caller == null
                                      ? CompletableFuture.completedFuture(null)
                                      : api.warmValueDecision(caller, id))
                          .whenComplete(
                              (warm, failed) ->
                                  context.runOnContext(
                                      w -> {
                                        if (answerFromCaches(request, id)) {
                                          wokenAfterReview.increment();
                                        } else {
                                          wokenOnPool.increment();
                                          answerWoken(request, context, id);
                                        }
                                      }));
                    }
                  }
                });
          }
        };
    registered[0] = waiter;
    if (!waiters.add(ns, name, waiter)) {
      request.respond(
          request.failure(RequestException.throttled("too many waiting requests; retry shortly")));
      return;
    }
    timer[0] =
        vertx.setTimer(
            seconds * 1000L,
            t -> {
              if (done.compareAndSet(false, true)) {
                reviews.remove(authorization, reviewed);
                waiters.remove(ns, name, waiter);
                request.respond(new Outcome(new Result(304, null, known), null, true, "unchanged"));
              }
            });
    // The response's, not the connection's: on HTTP/2 a connection carries many streams and keeps
    // one close handler, and a stream reset leaves the connection open.
    request
        .ctx
        .response()
        .closeHandler(
            v -> {
              if (done.compareAndSet(false, true)) {
                vertx.cancelTimer(timer[0]);
                reviews.remove(authorization, reviewed);
                waiters.remove(ns, name, waiter);
              }
            });
    reviews.add(authorization, reviewed);
    // The version may have changed between the check and the registration.
    String current =
        catalog
            .find(ns, name)
            .map(s -> s.getStatus() == null ? null : s.getStatus().getCurrentVersionId())
            .orElse(null);
    if (current == null || !current.equals(known)) {
      waiters.notifyChanged(ns, name);
    }
  }

  /**
   * Wakes the waiters of a secret whose CURRENT changed (or that was deleted). When some wait, the
   * new CURRENT's data key is unwrapped first, once, on the pool: every woken waiter is then
   * answered from the caches on its event loop. Woken at once, a rotation's waiters (every pod that
   * watches the secret) all missed the new data key and queued on the pool behind its one unwrap.
   * The key is only unwrapped for a version about to be read anyway; when that fails the waiters
   * are woken all the same, and their answers report the failure.
   */
  private void currentChanged(ManagedSecret changed) {
    String ns = changed.getMetadata().getNamespace();
    String name = changed.getMetadata().getName();
    String current = changed.getStatus() == null ? null : changed.getStatus().getCurrentVersionId();
    if (current == null || catalog == null || !waiters.anyWaiting(ns, name)) {
      waiters.notifyChanged(ns, name);
      return;
    }
    try {
      pool.execute(
          () -> {
            try {
              catalog
                  .find(ns, name)
                  .filter(
                      secret ->
                          secret.getStatus() != null
                              && current.equals(secret.getStatus().getCurrentVersionId()))
                  .ifPresent(
                      secret ->
                          catalog
                              .envelope(secret, current)
                              .ifPresent(
                                  envelope -> versions.unseal(secret, current, envelope).wipe()));
            } catch (RuntimeException e) {
              LOG.debugf(
                  "data key of %s/%s version %s not unwrapped ahead: %s", ns, name, current, e);
            } finally {
              waiters.notifyChanged(ns, name);
            }
          });
    } catch (RejectedExecutionException e) {
      waiters.notifyChanged(ns, name);
    }
  }

  /**
   * A woken waiter answered from the caches alone, on its event loop; false if they lack something.
   */
  private boolean answerFromCaches(Request request, SecretId id) {
    Outcome cached =
        request.runIfCached(caller -> value(api.getValueIfCached(caller, id, null, null)));
    if (cached == null) {
      return false;
    }
    request.respond(cached);
    return true;
  }

  /** A woken waiter answered on the pool, through the bounded wake-up backlog (never dropped). */
  private void answerWoken(Request request, Context context, SecretId id) {
    wakeUps.submit(
        new WakeUps.Job() {
          @Override
          public void run() {
            Outcome outcome =
                request.run((caller, r) -> value(api.getValue(caller, id, null, null)));
            context.runOnContext(x -> request.respond(outcome));
          }

          @Override
          public void reject() {
            context.runOnContext(x -> request.respond(request.failure(overloaded())));
          }
        });
  }

  private record Outcome(Result result, ApiError error, boolean allowed, String reason) {}

  /** One request's bookkeeping: who, what, how long, and its single audit line. */
  private final class Request {
    final RoutingContext ctx;
    final String action;
    final Function<RoutingContext, Caller> authentication;
    final Rendering rendering;
    final long started = System.nanoTime();
    final String id = requestId();
    volatile String subject = "unknown";
    volatile String namespace;
    volatile String secret;

    Request(RoutingContext ctx, String action, Rendering rendering) {
      this(ctx, action, rendering, null);
    }

    /**
     * @param authentication who the request comes from (nullable: by its Authorization header, as
     *     of its arrival)
     */
    Request(
        RoutingContext ctx,
        String action,
        Rendering rendering,
        Function<RoutingContext, Caller> authentication) {
      this.ctx = ctx;
      this.action = action;
      this.rendering = rendering;
      // A signature is judged as of the request's arrival, not the end of its long-poll.
      Instant receivedAt = requests.now();
      this.authentication =
          authentication != null ? authentication : c -> requests.authenticate(c, receivedAt);
      this.namespace = ctx.pathParam("namespace");
      this.secret = ctx.pathParam("name");
    }

    /** The secret the request is about, once the operation has parsed it. */
    void about(SecretId id) {
      namespace = id.namespace();
      secret = id.name();
    }

    Outcome run(Operation operation) {
      try {
        Caller caller = authentication.apply(ctx);
        subject = caller.username();
        Result result = operation.apply(caller, this);
        return new Outcome(result, null, true, "allowed by RBAC");
      } catch (RuntimeException e) {
        return failure(e);
      }
    }

    /**
     * Like {@link #run} on the event loop, from caches only: null when the caller is not a bearer
     * token already reviewed, or the decision or the data key is not cached (or anything else would
     * block), so the caller runs it on the pool.
     */
    Outcome runIfCached(RestOperation operation) {
      try {
        Caller caller = requests.authenticateIfCached(ctx);
        if (caller == null) {
          return null;
        }
        subject = caller.username();
        Result result = operation.apply(caller);
        return result == null ? null : new Outcome(result, null, true, "allowed by RBAC");
      } catch (RuntimeException e) {
        return failure(e);
      }
    }

    /**
     * The peer of the connection. Vert.x Web's {@code remoteAddress()} works out forwarded headers
     * on every call (1.5 % of a cached read), which the API never trusts anyway.
     */
    private String remoteHost() {
      SocketAddress peer = ctx.request().connection().remoteAddress();
      return peer == null ? null : peer.hostAddress();
    }

    private byte[] render(Object body) {
      try {
        return (rendering == Rendering.REST ? restJson : awsJsonMapper).writeValueAsBytes(body);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("cannot render " + body.getClass().getSimpleName(), e);
      }
    }

    Outcome failure(RuntimeException e) {
      ApiError error = map(e);
      boolean allowed = !(e instanceof AccessDeniedException || e instanceof SignatureException);
      return new Outcome(null, error, allowed, error.message());
    }

    void respond(Outcome outcome) {
      var response = ctx.response();
      if (response.ended() || response.closed()) {
        return;
      }
      int status;
      String versionId = null;
      response
          .putHeader("Content-Type", rendering.contentType())
          .putHeader("Cache-Control", "no-store");
      if (outcome.error() != null) {
        ApiError error = outcome.error();
        status = rendering.status(error);
        if (error.retryAfterSeconds() != null) {
          response.putHeader("Retry-After", Integer.toString(error.retryAfterSeconds()));
        }
        response.setStatusCode(status).end(Buffer.buffer(Rendering.error(json, error)));
      } else {
        status = outcome.result().status();
        versionId = outcome.result().versionId();
        if (outcome.result().body() == null) {
          response.setStatusCode(status).end();
        } else {
          response.setStatusCode(status).end(Buffer.buffer(render(outcome.result().body())));
        }
      }
      double latencyMs = (System.nanoTime() - started) / 1e6;
      String outcomeTag = outcome.error() == null ? "ok" : outcome.allowed() ? "error" : "denied";
      metrics.record(action, outcomeTag, status, System.nanoTime() - started);
      // The secret the operation named: from the path for REST, from SecretId for awsJson.
      accessMetrics.answered(action, namespace, secret, outcomeTag);
      audit.record(
          new AuditLog.Entry(
              id,
              subject,
              namespace,
              secret,
              versionId,
              action,
              outcome.allowed(),
              outcome.reason(),
              status,
              latencyMs,
              remoteHost()));
    }
  }

  /**
   * 13 random hex digits in the shape of a UUID's start (xxxxxxxx-xxxx), to correlate a request's
   * audit line with logs; not a secret, so no SecureRandom (UUID.randomUUID serialises threads on
   * it).
   */
  private static String requestId() {
    String hex = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    return hex.substring(4, 12) + "-" + hex.substring(12);
  }

  /**
   * No worker thread is free: the client should come back shortly rather than queue without end.
   */
  private static RuntimeException overloaded() {
    return RequestException.overloaded("the API is overloaded; retry shortly");
  }

  /**
   * Through the one mapping (ApiError); what nobody foresaw is logged with its stack, a conflict
   * between writers in one line.
   */
  private ApiError map(RuntimeException e) {
    ApiError error = ApiError.of(e);
    switch (Failure.of(e)) {
      case INTERNAL -> LOG.errorf(e, "unexpected error in the secret-value API");
      case CONFLICT, KUBERNETES_UNAVAILABLE ->
          LOG.warnf("secret-value API: %s (%s)", error.message(), e.getMessage());
      default -> {}
    }
    return error;
  }

  /**
   * The body as JSON: UTF-8 only (RFC 8259 section 8.1; Jackson would otherwise guess UTF-16 or
   * UTF-32 from the first bytes), and no field twice, since a value must never depend on which of
   * two spellings a parser keeps. Messages give positions, never body content (it may be a value).
   */
  private JsonNode parse(RoutingContext ctx) {
    if (ctx.body() == null || ctx.body().buffer() == null) {
      return null;
    }
    byte[] bytes = ctx.body().buffer().getBytes();
    ByteBuffer input = ByteBuffer.wrap(bytes);
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(input);
    } catch (CharacterCodingException e) {
      throw ApiException.badRequest(
          "the body is not UTF-8 (malformed byte sequence at byte offset "
              + input.position()
              + "); send the JSON body encoded as UTF-8");
    }
    try {
      return json.reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).readTree(bytes);
    } catch (JsonParseException e) {
      String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
      Matcher duplicate = DUPLICATE_FIELD.matcher(original);
      if (duplicate.lookingAt()) {
        throw ApiException.badRequest("the body sets field " + duplicate.group(1) + " twice");
      }
      throw ApiException.badRequest(notJson(e));
    } catch (java.io.IOException e) {
      throw ApiException.badRequest("the body is not valid JSON");
    }
  }

  private static String notJson(JsonProcessingException e) {
    JsonLocation at = e.getLocation();
    return at == null
        ? "the body is not valid JSON"
        : "the body is not valid JSON (line "
            + at.getLineNr()
            + ", column "
            + at.getColumnNr()
            + ")";
  }

  private static SecretId secretId(RoutingContext ctx) {
    return SecretId.of(ctx.pathParam("namespace"), ctx.pathParam("name"));
  }

  /** GetRandomPassword's REST form: AWS's member names as query parameters. */
  private static GenerateSpec passwordSpec(RoutingContext ctx) {
    var params = ctx.queryParams();
    GenerateSpec spec = new GenerateSpec();
    try {
      if (params.contains("PasswordLength")) {
        spec.setPasswordLength(Integer.parseInt(params.get("PasswordLength")));
      }
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("PasswordLength must be a whole number");
    }
    spec.setExcludeCharacters(params.get("ExcludeCharacters"));
    spec.setExcludeNumbers(bool(params.get("ExcludeNumbers"), "ExcludeNumbers", false));
    spec.setExcludePunctuation(bool(params.get("ExcludePunctuation"), "ExcludePunctuation", false));
    spec.setExcludeUppercase(bool(params.get("ExcludeUppercase"), "ExcludeUppercase", false));
    spec.setExcludeLowercase(bool(params.get("ExcludeLowercase"), "ExcludeLowercase", false));
    spec.setIncludeSpace(bool(params.get("IncludeSpace"), "IncludeSpace", false));
    spec.setRequireEachIncludedType(
        bool(params.get("RequireEachIncludedType"), "RequireEachIncludedType", true));
    return spec;
  }

  private static boolean bool(String value, String name, boolean absent) {
    if (value == null) {
      return absent;
    }
    if (!value.equals("true") && !value.equals("false")) {
      throw ApiException.badRequest(name + " must be true or false");
    }
    return Boolean.parseBoolean(value);
  }

  private static String ns(RoutingContext ctx) {
    return ctx.pathParam("namespace");
  }

  private static String name(RoutingContext ctx) {
    return ctx.pathParam("name");
  }

  /** Woken long-polls by where their answer was computed (see {@link #waitForChange}). */
  private Counter wokenCounter(String answered) {
    return Counter.builder("keywarden.api.wakeups")
        .description("woken long-polls by where their answer was computed")
        .tag("answered", answered)
        .register(registry);
  }

  private void registerMetrics() {
    Gauge.builder("keywarden.api.waiters", waiters, ChangeWaiters::size)
        .description("long-poll requests waiting")
        .register(registry);
    Gauge.builder("keywarden.api.queue", pool, p -> p.getQueue().size())
        .description("requests waiting for a thread")
        .register(registry);
    wokenOnEventLoop = wokenCounter("event-loop");
    wokenAfterReview = wokenCounter("after-review");
    wokenOnPool = wokenCounter("pool");
    Gauge.builder("keywarden.api.wakeups.queued", wakeUps, WakeUps::size)
        .description("woken long-polls waiting for a thread to compute their answer")
        .register(registry);
    Gauge.builder("keywarden.audit.queued", audit, AuditLog::queued)
        .description("audit lines waiting for the writer thread")
        .register(registry);
    FunctionCounter.builder("keywarden.audit.written.by.caller", audit, AuditLog::writtenByCaller)
        .description("audit lines written on the request path because the audit queue was full")
        .register(registry);
    cacheMetrics("token", authenticator.cache());
    cacheMetrics("decision", reviewer.cache());
    FunctionCounter.builder("keywarden.cache.hits", cipher, c -> c.dekCacheStats().hitCount())
        .tag("cache", "dek")
        .register(registry);
    FunctionCounter.builder("keywarden.cache.misses", cipher, c -> c.dekCacheStats().missCount())
        .tag("cache", "dek")
        .register(registry);
  }

  private void cacheMetrics(String name, com.github.benmanes.caffeine.cache.Cache<?, ?> cache) {
    FunctionCounter.builder("keywarden.cache.hits", cache, c -> c.stats().hitCount())
        .tag("cache", name)
        .register(registry);
    FunctionCounter.builder("keywarden.cache.misses", cache, c -> c.stats().missCount())
        .tag("cache", name)
        .register(registry);
  }
}
