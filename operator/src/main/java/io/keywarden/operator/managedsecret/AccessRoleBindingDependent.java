package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import java.util.Map;

/** The RoleBinding per action of spec.access, binding its subjects to the Role of that action. */
@KubernetesDependent(informer = @Informer(labelSelector = AccessPolicy.LABEL_POLICY_OF))
public class AccessRoleBindingDependent extends OwnedDependent<RoleBinding> {

  public AccessRoleBindingDependent() {
    super(RoleBinding.class, ManagedSecretConditions.ACCESS_POLICY_CONFLICT);
  }

  @Override
  Map<String, RoleBinding> desiredByName(ManagedSecret primary, Context<ManagedSecret> context) {
    return AccessPolicy.bindings(primary);
  }
}
