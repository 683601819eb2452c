package io.keywarden.operator.access;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.operator.config.KeywardenConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Authorization is RBAC alone: a SubjectAccessReview for the caller on managedsecrets (describe) or
 * managedsecrets/value (get, update, rotate) with the resource name. Decisions are cached for a
 * couple of seconds, so a removed RoleBinding stops working within that time; one in use is asked
 * again ahead of its expiry, in the background.
 */
@ApplicationScoped
public class AccessReviewer {

  public record Decision(boolean allowed, String reason) {}

  private record Key(
      Caller caller, String verb, String namespace, String name, String subresource) {}

  private final KubernetesClient client;
  private final AsyncLoadingCache<Key, Decision> cache;

  public AccessReviewer(KubernetesClient client, KeywardenConfig config) {
    this.client = client;
    Duration ttl = config.api().decisionCacheTtl();
    Caffeine<Object, Object> builder =
        Caffeine.newBuilder()
            .maximumSize(100_000)
            .expireAfterWrite(ttl)
            .executor(Refreshes.EXECUTOR)
            .recordStats();
    if (!ttl.isZero()) {
      // Refresh ahead: a decision read in the second half of its life is asked again in the
      // background while the cached one keeps answering, so a key in use never expires and no
      // request waits for a SubjectAccessReview at expiry (a load under computeIfAbsent blocks
      // every thread asking for the same key). Expiry stays at the ttl: a removed RoleBinding
      // stops working within it, as before.
      builder.refreshAfterWrite(ttl.dividedBy(2));
    }
    // Asynchronous: a missing decision is one future that every request for the key waits on,
    // asked on the refresh threads. A synchronous cache asks inside ConcurrentHashMap.compute and
    // holds the map bin's lock for the whole review, blocking every thread that touches that bin
    // (other keys included) and Caffeine's own maintenance.
    this.cache = builder.buildAsync(this::ask);
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
