package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.rbac.Role;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import java.util.Map;

/** The Role per action of spec.access ({@code keywarden-<secret>-<action>}). */
@KubernetesDependent(informer = @Informer(labelSelector = AccessPolicy.LABEL_POLICY_OF))
public class AccessRoleDependent extends OwnedDependent<Role> {

  public AccessRoleDependent() {
    super(Role.class, ManagedSecretConditions.ACCESS_POLICY_CONFLICT);
  }

  @Override
  Map<String, Role> desiredByName(ManagedSecret primary, Context<ManagedSecret> context) {
    return AccessPolicy.roles(primary);
  }
}
