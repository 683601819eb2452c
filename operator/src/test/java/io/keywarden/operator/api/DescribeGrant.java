package io.keywarden.operator.api;

import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The Role and RoleBinding "describe" an AWS client needs besides spec.access: DescribeSecret
 * (which AWS's caching clients call before every refresh) and ListSecretVersionIds need get on the
 * ManagedSecret itself.
 */
final class DescribeGrant {

  private DescribeGrant() {}

  static void create(KubernetesClient client, String ns, String serviceAccount, String... names) {
    client
        .rbac()
        .roles()
        .inNamespace(ns)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName("describe")
                .endMetadata()
                .addNewRule()
                .withApiGroups("keywarden.io")
                .withResources("managedsecrets")
                .withResourceNames(names)
                .withVerbs("get")
                .endRule()
                .build())
        .create();
    client
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("describe")
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("Role")
                .withName("describe")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(serviceAccount)
                .withNamespace(ns)
                .endSubject()
                .build())
        .create();
  }
}
