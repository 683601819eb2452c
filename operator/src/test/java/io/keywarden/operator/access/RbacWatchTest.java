package io.keywarden.operator.access;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import org.junit.jupiter.api.Test;

/** Which RBAC updates may change a decision, and so make the API forget decisions. */
class RbacWatchTest {

  private static final RoleBuilder ROLE =
      new RoleBuilder()
          .withNewMetadata()
          .withName("keywarden-db-get")
          .withNamespace("app")
          .withResourceVersion("1")
          .endMetadata()
          .addNewRule()
          .withApiGroups("keywarden.io")
          .withResources("managedsecrets/value")
          .withResourceNames("db")
          .withVerbs("get")
          .endRule();

  private static RoleBinding binding(String subject) {
    return new RoleBindingBuilder()
        .withNewMetadata()
        .withName("keywarden-db-get")
        .withNamespace("app")
        .withResourceVersion("1")
        .endMetadata()
        .withNewRoleRef()
        .withApiGroup("rbac.authorization.k8s.io")
        .withKind("Role")
        .withName("keywarden-db-get")
        .endRoleRef()
        .addNewSubject()
        .withKind("ServiceAccount")
        .withName(subject)
        .withNamespace("app")
        .endSubject()
        .build();
  }

  @Test
  void metadataOnlyUpdatesChangeNoGrant() {
    var before = ROLE.build();
    var relabelled =
        new RoleBuilder(before)
            .editMetadata()
            .withResourceVersion("2")
            .addToLabels("argocd.argoproj.io/instance", "apps")
            .addToAnnotations("note", "x")
            .endMetadata()
            .build();
    assertThat(RbacWatch.grants(relabelled)).isEqualTo(RbacWatch.grants(before));

    RoleBinding boundBefore = binding("app");
    RoleBinding boundAfter =
        new RoleBindingBuilder(boundBefore)
            .editMetadata()
            .withResourceVersion("2")
            .addNewOwnerReference()
            .withKind("ManagedSecret")
            .withName("db")
            .withUid("u")
            .endOwnerReference()
            .endMetadata()
            .build();
    assertThat(RbacWatch.grants(boundAfter)).isEqualTo(RbacWatch.grants(boundBefore));
  }

  @Test
  void rulesSubjectsAndRoleRefsChangeGrants() {
    var before = ROLE.build();
    var widened = new RoleBuilder(before).editFirstRule().addToVerbs("update").endRule().build();
    assertThat(RbacWatch.grants(widened)).isNotEqualTo(RbacWatch.grants(before));

    assertThat(RbacWatch.grants(binding("other"))).isNotEqualTo(RbacWatch.grants(binding("app")));
    RoleBinding otherRole =
        new RoleBindingBuilder(binding("app"))
            .editRoleRef()
            .withName("keywarden-db-update")
            .endRoleRef()
            .build();
    assertThat(RbacWatch.grants(otherRole)).isNotEqualTo(RbacWatch.grants(binding("app")));

    var clusterRole =
        new ClusterRoleBuilder().withNewMetadata().withName("view").endMetadata().build();
    var aggregated =
        new ClusterRoleBuilder(clusterRole)
            .addNewRule()
            .withApiGroups("keywarden.io")
            .withResources("managedsecrets")
            .withVerbs("get")
            .endRule()
            .build();
    assertThat(RbacWatch.grants(aggregated)).isNotEqualTo(RbacWatch.grants(clusterRole));

    var clusterBinding =
        new ClusterRoleBindingBuilder()
            .withNewMetadata()
            .withName("readers")
            .endMetadata()
            .withNewRoleRef()
            .withKind("ClusterRole")
            .withName("view")
            .endRoleRef()
            .build();
    var withSubject =
        new ClusterRoleBindingBuilder(clusterBinding)
            .addNewSubject()
            .withKind("Group")
            .withName("readers")
            .endSubject()
            .build();
    assertThat(RbacWatch.grants(withSubject)).isNotEqualTo(RbacWatch.grants(clusterBinding));
  }
}
