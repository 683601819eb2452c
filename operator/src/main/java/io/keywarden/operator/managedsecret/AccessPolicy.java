package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.rbac.SubjectBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.AccessRule;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.api.v1alpha1.ManagedSecret;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The resource-based policy: spec.access becomes one Role and RoleBinding per action, owned by the
 * ManagedSecret, so that RBAC alone decides access and {@code kubectl auth can-i} tells the truth.
 */
@ApplicationScoped
public class AccessPolicy {

  public static final String LABEL_POLICY_OF = "keywarden.io/access-policy-of";
  private static final String FIELD_MANAGER = "keywarden-operator";
  static final Duration REAPPLY_AFTER = Duration.ofMinutes(10);
  private final KubernetesClient client;
  private final Map<String, Applied> applied = new ConcurrentHashMap<>();

  public AccessPolicy(KubernetesClient client) {
    this.client = client;
  }

  public static String objectName(String secretName, AccessRule.Action action) {
    return "keywarden-" + secretName + "-" + action.name();
  }

  /**
   * Applies the policy when the spec changed since this process last applied it, or after {@link
   * #REAPPLY_AFTER}: a rotation reconciles a ManagedSecret several times, and re-applying unchanged
   * Roles each time cost four apiserver requests (two of them LISTs) per reconcile. A Role or
   * RoleBinding deleted by hand is put back within that period, or at once on restart.
   */
  public void applyIfStale(ManagedSecret secret) {
    Applied last = applied.get(secret.getMetadata().getUid());
    long generation =
        secret.getMetadata().getGeneration() == null ? 0 : secret.getMetadata().getGeneration();
    if (last != null
        && last.generation() == generation
        && last.at().plus(REAPPLY_AFTER).isAfter(Instant.now())) {
      return;
    }
    apply(secret);
    applied.put(secret.getMetadata().getUid(), new Applied(generation, Instant.now()));
  }

  /** Drops what is remembered of a deleted ManagedSecret. */
  public void forget(ManagedSecret secret) {
    applied.remove(secret.getMetadata().getUid());
  }

  private record Applied(long generation, Instant at) {}

  public void apply(ManagedSecret secret) {
    String namespace = secret.getMetadata().getNamespace();
    String name = secret.getMetadata().getName();
    Map<AccessRule.Action, List<Subject>> desired = subjectsByAction(secret);
    for (var entry : desired.entrySet()) {
      String objectName = objectName(name, entry.getKey());
      client
          .rbac()
          .roles()
          .inNamespace(namespace)
          .resource(role(secret, entry.getKey(), objectName))
          .fieldManager(FIELD_MANAGER)
          .forceConflicts()
          .serverSideApply();
      client
          .rbac()
          .roleBindings()
          .inNamespace(namespace)
          .resource(
              new RoleBindingBuilder()
                  .withNewMetadata()
                  .withName(objectName)
                  .withNamespace(namespace)
                  .withLabels(labels(name))
                  .withOwnerReferences(owner(secret))
                  .endMetadata()
                  .withNewRoleRef()
                  .withApiGroup("rbac.authorization.k8s.io")
                  .withKind("Role")
                  .withName(objectName)
                  .endRoleRef()
                  .withSubjects(entry.getValue())
                  .build())
          .fieldManager(FIELD_MANAGER)
          .forceConflicts()
          .serverSideApply();
    }
    Set<String> keep =
        desired.keySet().stream().map(a -> objectName(name, a)).collect(Collectors.toSet());
    for (RoleBinding binding :
        client
            .rbac()
            .roleBindings()
            .inNamespace(namespace)
            .withLabel(LABEL_POLICY_OF, labelValue(name))
            .list()
            .getItems()) {
      if (!keep.contains(binding.getMetadata().getName())
          && ownedBy(binding.getMetadata().getOwnerReferences(), secret)) {
        client.resource(binding).delete();
      }
    }
    for (Role role :
        client
            .rbac()
            .roles()
            .inNamespace(namespace)
            .withLabel(LABEL_POLICY_OF, labelValue(name))
            .list()
            .getItems()) {
      if (!keep.contains(role.getMetadata().getName())
          && ownedBy(role.getMetadata().getOwnerReferences(), secret)) {
        client.resource(role).delete();
      }
    }
  }

  static Map<AccessRule.Action, List<Subject>> subjectsByAction(ManagedSecret secret) {
    Map<AccessRule.Action, List<Subject>> byAction = new TreeMap<>();
    for (AccessRule rule : secret.getSpec().getAccess()) {
      Subject subject = subject(rule, secret.getMetadata().getNamespace());
      for (AccessRule.Action action : rule.getActions()) {
        List<Subject> subjects = byAction.computeIfAbsent(action, a -> new ArrayList<>());
        if (!subjects.contains(subject)) {
          subjects.add(subject);
        }
      }
    }
    return byAction;
  }

  private static Subject subject(AccessRule rule, String defaultNamespace) {
    AccessRule.SubjectKind kind =
        rule.getKind() == null ? AccessRule.SubjectKind.ServiceAccount : rule.getKind();
    SubjectBuilder builder = new SubjectBuilder().withKind(kind.name()).withName(rule.getName());
    if (kind == AccessRule.SubjectKind.ServiceAccount) {
      builder.withNamespace(
          rule.getNamespace() == null || rule.getNamespace().isBlank()
              ? defaultNamespace
              : rule.getNamespace());
    } else {
      builder.withApiGroup("rbac.authorization.k8s.io");
    }
    return builder.build();
  }

  private static Role role(ManagedSecret secret, AccessRule.Action action, String objectName) {
    RoleBuilder builder =
        new RoleBuilder()
            .withNewMetadata()
            .withName(objectName)
            .withNamespace(secret.getMetadata().getNamespace())
            .withLabels(labels(secret.getMetadata().getName()))
            .withOwnerReferences(owner(secret))
            .endMetadata()
            .addNewRule()
            .withApiGroups(KeywardenApi.GROUP)
            .withResources(KeywardenApi.VALUE_RESOURCE)
            .withResourceNames(secret.getMetadata().getName())
            .withVerbs(action.name())
            .endRule();
    if (action == AccessRule.Action.get) {
      // Readers may also describe the secret and list its versions.
      builder
          .addNewRule()
          .withApiGroups(KeywardenApi.GROUP)
          .withResources("managedsecrets")
          .withResourceNames(secret.getMetadata().getName())
          .withVerbs("get")
          .endRule();
    }
    return builder.build();
  }

  private static Map<String, String> labels(String secretName) {
    return Map.of(
        KeywardenApi.MANAGED_BY_LABEL,
        KeywardenApi.OPERATOR,
        LABEL_POLICY_OF,
        labelValue(secretName));
  }

  /**
   * Label values are at most 63 characters; longer names are not selectable and fall back to owner
   * checks only.
   */
  private static String labelValue(String name) {
    return name.length() <= 63 ? name : name.substring(0, 63).replaceAll("[^a-zA-Z0-9]+$", "");
  }

  private static OwnerReference owner(ManagedSecret secret) {
    return new OwnerReferenceBuilder()
        .withApiVersion(KeywardenApi.API_VERSION)
        .withKind("ManagedSecret")
        .withName(secret.getMetadata().getName())
        .withUid(secret.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(false)
        .build();
  }

  private static boolean ownedBy(List<OwnerReference> refs, ManagedSecret secret) {
    return refs.stream().anyMatch(r -> secret.getMetadata().getUid().equals(r.getUid()));
  }
}
