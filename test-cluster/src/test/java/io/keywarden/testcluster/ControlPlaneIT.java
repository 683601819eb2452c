package io.keywarden.testcluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewStatus;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Proves that the harness is a real control plane: authentication, authorization and controllers.
 */
@KubernetesIT
class ControlPlaneIT {

  @Test
  void boundTokenPassesTokenReviewOnlyForItsAudience(TestCluster cluster, TestNamespace ns) {
    KubernetesClient admin = cluster.admin();
    admin
        .serviceAccounts()
        .inNamespace(ns.name())
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("app").endMetadata().build())
        .create();
    String token = cluster.token(ns.name(), "app", "keywarden.io", 600);

    TokenReview keywarden = review(admin, token, "keywarden.io");
    assertThat(keywarden.getStatus().getAuthenticated()).isTrue();
    assertThat(keywarden.getStatus().getUser().getUsername())
        .isEqualTo("system:serviceaccount:" + ns + ":app");
    assertThat(keywarden.getStatus().getAudiences()).containsExactly("keywarden.io");

    TokenReview other = review(admin, token, "vault");
    assertThat(other.getStatus().getAuthenticated()).isNotEqualTo(Boolean.TRUE);
    assertThat(other.getStatus().getError()).contains("audience");
  }

  private static TokenReview review(KubernetesClient admin, String token, String audience) {
    return admin
        .resource(
            new TokenReviewBuilder()
                .withNewSpec()
                .withToken(token)
                .withAudiences(audience)
                .endSpec()
                .build())
        .create();
  }

  @Test
  void subjectAccessReviewIsDeniedUntilRoleAndBindingExist(TestCluster cluster, TestNamespace ns) {
    KubernetesClient admin = cluster.admin();
    admin
        .serviceAccounts()
        .inNamespace(ns.name())
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("reader").endMetadata().build())
        .create();

    assertThat(canGetValue(admin, ns, "reader", "db-password").getAllowed()).isFalse();

    admin
        .rbac()
        .roles()
        .inNamespace(ns.name())
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName("db-password-reader")
                .endMetadata()
                .addNewRule()
                .withApiGroups("keywarden.io")
                .withResources("managedsecrets/value")
                .withResourceNames("db-password")
                .withVerbs("get")
                .endRule()
                .build())
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns.name())
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("db-password-reader")
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("Role")
                .withName("db-password-reader")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("reader")
                .withNamespace(ns.name())
                .endSubject()
                .build())
        .create();

    SubjectAccessReviewStatus allowed = canGetValue(admin, ns, "reader", "db-password");
    assertThat(allowed.getAllowed()).isTrue();
    assertThat(allowed.getReason()).contains("db-password-reader");
    assertThat(canGetValue(admin, ns, "reader", "another-secret").getAllowed()).isFalse();
  }

  private static SubjectAccessReviewStatus canGetValue(
      KubernetesClient admin, TestNamespace ns, String sa, String secret) {
    return admin
        .resource(
            new SubjectAccessReviewBuilder()
                .withNewSpec()
                .withUser("system:serviceaccount:" + ns + ":" + sa)
                .withGroups(
                    "system:serviceaccounts",
                    "system:serviceaccounts:" + ns,
                    "system:authenticated")
                .withNewResourceAttributes()
                .withGroup("keywarden.io")
                .withResource("managedsecrets")
                .withSubresource("value")
                .withVerb("get")
                .withNamespace(ns.name())
                .withName(secret)
                .endResourceAttributes()
                .endSpec()
                .build())
        .create()
        .getStatus();
  }

  @Test
  void dependentIsGarbageCollectedWhenItsOwnerGoes(TestCluster cluster, TestNamespace ns) {
    KubernetesClient admin = cluster.admin();
    ConfigMap owner =
        admin
            .configMaps()
            .inNamespace(ns.name())
            .resource(
                new ConfigMapBuilder().withNewMetadata().withName("owner").endMetadata().build())
            .create();
    admin
        .configMaps()
        .inNamespace(ns.name())
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("dependent")
                .addNewOwnerReference()
                .withApiVersion("v1")
                .withKind("ConfigMap")
                .withName("owner")
                .withUid(owner.getMetadata().getUid())
                .endOwnerReference()
                .endMetadata()
                .build())
        .create();

    admin.configMaps().inNamespace(ns.name()).withName("owner").delete();

    admin
        .configMaps()
        .inNamespace(ns.name())
        .withName("dependent")
        .waitUntilCondition(cm -> cm == null, 60, TimeUnit.SECONDS);
    assertThat(admin.configMaps().inNamespace(ns.name()).withName("dependent").get()).isNull();
  }

  @Test
  void deletedNamespaceIsFinalizedByTheControllerManager(TestCluster cluster) {
    KubernetesClient admin = cluster.admin();
    admin
        .namespaces()
        .resource(
            new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                .withNewMetadata()
                .withName("kw-namespace-lifecycle")
                .endMetadata()
                .build())
        .create();
    admin
        .configMaps()
        .inNamespace("kw-namespace-lifecycle")
        .resource(
            new ConfigMapBuilder().withNewMetadata().withName("content").endMetadata().build())
        .create();

    admin.namespaces().withName("kw-namespace-lifecycle").delete();

    admin
        .namespaces()
        .withName("kw-namespace-lifecycle")
        .waitUntilCondition(n -> n == null, 90, TimeUnit.SECONDS);
  }
}
