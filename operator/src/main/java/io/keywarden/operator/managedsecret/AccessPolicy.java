package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.rbac.SubjectBuilder;
import io.keywarden.api.v1alpha1.AccessRule;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.api.v1alpha1.ManagedSecret;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The resource-based policy: spec.access becomes one Role and RoleBinding per action, owned by the
 * ManagedSecret, so that RBAC alone decides access and {@code kubectl auth can-i} tells the truth.
 * This class says what they look like; {@link AccessRoleDependent} and {@link
 * AccessRoleBindingDependent} keep them so.
 */
public final class AccessPolicy {

  public static final String LABEL_POLICY_OF = "keywarden.io/access-policy-of";

  private AccessPolicy() {}

  public static String objectName(String secretName, AccessRule.Action action) {
    return "keywarden-" + secretName + "-" + action.name();
  }

  /** The Roles spec.access asks for, by name. */
  static Map<String, Role> roles(ManagedSecret secret) {
    Map<String, Role> roles = new LinkedHashMap<>();
    subjectsByAction(secret)
        .keySet()
        .forEach(
            action -> {
              String name = objectName(secret.getMetadata().getName(), action);
              roles.put(name, role(secret, action, name));
            });
    return roles;
  }

  /** The RoleBindings spec.access asks for, by name. */
  static Map<String, RoleBinding> bindings(ManagedSecret secret) {
    Map<String, RoleBinding> bindings = new LinkedHashMap<>();
    subjectsByAction(secret)
        .forEach(
            (action, subjects) -> {
              String name = objectName(secret.getMetadata().getName(), action);
              bindings.put(
                  name,
                  new RoleBindingBuilder()
                      .withNewMetadata()
                      .withName(name)
                      .withNamespace(secret.getMetadata().getNamespace())
                      .withLabels(labels(secret.getMetadata().getName()))
                      .endMetadata()
                      .withNewRoleRef()
                      .withApiGroup("rbac.authorization.k8s.io")
                      .withKind("Role")
                      .withName(name)
                      .endRoleRef()
                      .withSubjects(subjects)
                      .build());
            });
    return bindings;
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
    return OwnedDependent.managedBy(Map.of(LABEL_POLICY_OF, labelValue(secretName)));
  }

  /**
   * Label values are at most 63 characters; longer names are not selectable and fall back to owner
   * checks only.
   */
  private static String labelValue(String name) {
    return name.length() <= 63 ? name : name.substring(0, 63).replaceAll("[^a-zA-Z0-9]+$", "");
  }
}
