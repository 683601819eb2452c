package io.keywarden.operator.access;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.operator.config.Caches;
import io.keywarden.operator.config.KeywardenConfig;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.commons.lang3.concurrent.BasicThreadFactory;
import org.jboss.logging.Logger;

/**
 * Authorization is RBAC alone: a SubjectAccessReview for the caller on managedsecrets (describe) or
 * managedsecrets/value (get, update, rotate) with the resource name. Decisions are cached for a
 * couple of seconds, so a removed RoleBinding stops working within that time; one in use is asked
 * again ahead of its expiry, in the background. While the operator watches RBAC ({@link RbacWatch})
 * decisions are kept for minutes instead and forgotten at the change that may affect them: a
 * long-poll waiter woken by a rotation then finds its decision still cached, where with pod-bound
 * tokens (one decision per pod) a rotation watched by 100 pods used to need 100 reviews at the
 * moment of delivery (docs/benchmarks.md).
 */
@ApplicationScoped
public class AccessReviewer {

  private static final Logger LOG = Logger.getLogger(AccessReviewer.class);

  public record Decision(boolean allowed, String reason) {}

  private record Key(
      Caller caller, String verb, String namespace, String name, String subresource) {}

  private final KubernetesClient client;
  private final AsyncLoadingCache<Key, Decision> cache;
  private final Duration ttl;
  private final Duration watchedTtl;
  private final RbacWatch watch;
  private final ScheduledExecutorService checks;

  public AccessReviewer(KubernetesClient client, KeywardenConfig config) {
    this.client = client;
    this.ttl = config.api().decisionCacheTtl();
    boolean watching =
        config.api().rbacWatch()
            && !ttl.isZero()
            && config.api().watchedDecisionCacheTtl().compareTo(ttl) > 0;
    this.watchedTtl = watching ? config.api().watchedDecisionCacheTtl() : ttl;
    Caffeine<Object, Object> builder = Caches.onCallingThread().maximumSize(100_000).recordStats();
    if (ttl.isZero()) {
      builder.expireAfterWrite(ttl);
    } else {
      builder.expireAfter(
          new Expiry<Key, Decision>() {
            @Override
            public long expireAfterCreate(Key key, Decision value, long now) {
              return keepFor().toNanos();
            }

            @Override
            public long expireAfterUpdate(Key key, Decision value, long now, long current) {
              return keepFor().toNanos();
            }

            @Override
            public long expireAfterRead(Key key, Decision value, long now, long current) {
              return current;
            }
          });
      // Refresh ahead: a decision read in the second half of its life is asked again in the
      // background while the cached one keeps answering, so a key in use never expires and no
      // request waits for a SubjectAccessReview at expiry (a load under computeIfAbsent blocks
      // every thread asking for the same key). Expiry stays at the ttl: a removed RoleBinding
      // stops working within it, as before. Decisions kept longer under the RBAC watch are
      // refreshed at the same pace while in use, which also bounds a missed watch event.
      builder.refreshAfterWrite(ttl.dividedBy(2));
    }
    // Asynchronous: a missing decision is one future that every request for the key waits on,
    // asked on the refresh threads. A synchronous cache asks inside ConcurrentHashMap.compute and
    // holds the map bin's lock for the whole review, blocking every thread that touches that bin
    // (other keys included) and Caffeine's own maintenance.
    // The builder's executor runs the cache's upkeep on the reading thread, so loads and refreshes
    // name the refresh threads themselves.
    this.cache =
        builder.buildAsync(
            (key, upkeep) -> CompletableFuture.supplyAsync(() -> ask(key), Refreshes.EXECUTOR));
    if (watching) {
      this.checks =
          Executors.newSingleThreadScheduledExecutor(
              BasicThreadFactory.builder()
                  .namingPattern("keywarden-rbac-watch")
                  .daemon(true)
                  .build());
      // Forgotten at the event and once more a ttl later: the API server's own RBAC authorizer
      // learns of the change from its watch too, maybe after us, so a decision asked right after
      // the event may still reflect the old rules; kept long, it would outlive the short ttl.
      this.watch =
          new RbacWatch(
              client,
              namespace -> {
                forget(namespace);
                checks.schedule(() -> forget(namespace), ttl.toMillis(), TimeUnit.MILLISECONDS);
              });
      this.checks.scheduleWithFixedDelay(this::shortenUnlessLive, 1, 1, TimeUnit.SECONDS);
    } else {
      this.watch = null;
      this.checks = null;
    }
  }

  private Duration keepFor() {
    return watch != null && watch.live() ? watchedTtl : ttl;
  }

  /**
   * Forgets the decisions a change of RBAC in {@code namespace} (null: cluster-wide) may affect.
   */
  private void forget(String namespace) {
    if (namespace == null) {
      cache.synchronous().invalidateAll();
    } else {
      cache.synchronous().asMap().keySet().removeIf(key -> namespace.equals(key.namespace()));
    }
  }

  /**
   * While the watch is down (disconnected, or not yet listed) no decision may outlive the short
   * ttl: one kept long just before the watch went is cut back to it.
   */
  private void shortenUnlessLive() {
    try {
      if (watch.live()) {
        return;
      }
      var expiry = cache.synchronous().policy().expireVariably().orElseThrow();
      for (Key key : cache.synchronous().asMap().keySet()) {
        expiry
            .getExpiresAfter(key)
            .filter(left -> left.compareTo(ttl) > 0)
            .ifPresent(left -> expiry.setExpiresAfter(key, ttl));
      }
    } catch (RuntimeException e) {
      LOG.warnf("checking the RBAC watch: %s", e.getMessage());
    }
  }

  @PreDestroy
  void close() {
    if (watch != null) {
      checks.shutdownNow();
      watch.close();
    }
  }

  /**
   * @param subresource "value" for values, null for the ManagedSecret itself
   */
  public Decision review(
      Caller caller, String verb, String namespace, String name, String subresource) {
    try {
      return cache.get(new Key(caller, verb, namespace, name, subresource)).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause; // e.g. the API server unreachable: mapped like any other call's failure
      }
      throw e;
    }
  }

  /**
   * The decision as a future: the cached one, or one SubjectAccessReview (per key, however many
   * ask) on the refresh threads. Never blocks.
   */
  public CompletableFuture<Decision> reviewAsync(
      Caller caller, String verb, String namespace, String name, String subresource) {
    return cache.get(new Key(caller, verb, namespace, name, subresource));
  }

  /**
   * The cached decision, or null when it would have to be asked for; never blocks (for the event
   * loop).
   */
  public Decision reviewIfCached(
      Caller caller, String verb, String namespace, String name, String subresource) {
    CompletableFuture<Decision> decision =
        cache.getIfPresent(new Key(caller, verb, namespace, name, subresource));
    return decision != null && decision.isDone() && !decision.isCompletedExceptionally()
        ? decision.join()
        : null;
  }

  private Decision ask(Key key) {
    SubjectAccessReview review =
        new SubjectAccessReviewBuilder()
            .withNewSpec()
            .withUser(key.caller().username())
            .withUid(key.caller().uid())
            .withGroups(key.caller().groups())
            .withExtra(key.caller().extra())
            .withNewResourceAttributes()
            .withGroup(KeywardenApi.GROUP)
            .withResource("managedsecrets")
            .withSubresource(key.subresource())
            .withVerb(key.verb())
            .withNamespace(key.namespace())
            .withName(key.name())
            .endResourceAttributes()
            .endSpec()
            .build();
    SubjectAccessReviewStatus status = client.resource(review).create().getStatus();
    boolean allowed =
        status != null
            && Boolean.TRUE.equals(status.getAllowed())
            && !Boolean.TRUE.equals(status.getDenied());
    String resource =
        key.subresource() == null ? "managedsecrets" : "managedsecrets/" + key.subresource();
    String reason =
        allowed
            ? (status.getReason() == null || status.getReason().isBlank()
                ? "allowed by RBAC"
                : status.getReason())
            : key.caller().username()
                + " may not "
                + key.verb()
                + " "
                + resource
                + " \""
                + key.name()
                + "\" in namespace "
                + key.namespace()
                + " (no Role or ClusterRole grants it; add the subject to spec.access or bind a Role)";
    return new Decision(allowed, reason);
  }

  public Cache<?, ?> cache() {
    return cache.synchronous();
  }
}
