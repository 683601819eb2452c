package io.keywarden.operator.failure;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import java.util.Set;

/** A ManagedSecret names a kmsKeyId that the operator is not configured with. */
public final class UnknownKmsKeyException extends KeywardenException {
  public UnknownKmsKeyException(String alias, Set<String> known) {
    super(
        Failure.UNKNOWN_KMS_KEY,
        ManagedSecretConditions.UNKNOWN_KMS_KEY,
        "spec.kmsKeyId: unknown KMS key '"
            + alias
            + "'; configured keys: "
            + String.join(", ", known.stream().sorted().toList()),
        null);
  }
}
