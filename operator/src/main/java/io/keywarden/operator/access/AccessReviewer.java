package io.keywarden.operator.access;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.operator.config.KeywardenConfig;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Authorization is RBAC alone: a SubjectAccessReview for the caller on managedsecrets (describe) or
 * managedsecrets/value (get, update, rotate) with the resource name. Decisions are cached for a
 * couple of seconds, so a removed RoleBinding stops working within that time.
 */
@ApplicationScoped
public class AccessReviewer {

  public record Decision(boolean allowed, String reason) {}

  private record Key(
      Caller caller, String verb, String namespace, String name, String subresource) {}

  private final KubernetesClient client;
  private final Cache<Key, Decision> cache;

  public AccessReviewer(KubernetesClient client, KeywardenConfig config) {
    this.client = client;
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(100_000)
            .expireAfterWrite(config.api().decisionCacheTtl())
            .recordStats()
            .build();
  }

  /**
   * @param subresource "value" for values, null for the ManagedSecret itself
   */
  public Decision review(
      Caller caller, String verb, String namespace, String name, String subresource) {
    return cache.get(new Key(caller, verb, namespace, name, subresource), this::ask);
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
    return cache;
  }
}
