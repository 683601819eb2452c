package io.keywarden.operator.kms;

import java.util.Set;

/** A ManagedSecret names a kmsKeyId that the operator is not configured with. */
public class UnknownKmsKeyException extends RuntimeException {
  public UnknownKmsKeyException(String alias, Set<String> known) {
    super(
        "spec.kmsKeyId: unknown KMS key '"
            + alias
            + "'; configured keys: "
            + String.join(", ", known.stream().sorted().toList()));
  }
}
