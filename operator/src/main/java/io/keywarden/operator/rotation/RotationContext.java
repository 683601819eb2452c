package io.keywarden.operator.rotation;

import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.RotationStrategy;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.RotationFailedException;
import java.util.Optional;
import java.util.function.Supplier;

/** What a strategy sees during one rotation. Values are decrypted on demand and never printed. */
public record RotationContext(
    ManagedSecret secret,
    RotationStrategy strategy,
    String currentVersionId,
    String pendingVersionId,
    Supplier<SecretValue> current,
    Supplier<Optional<SecretValue>> pending) {

  public String namespace() {
    return secret.getMetadata().getNamespace();
  }

  public String name() {
    return secret.getMetadata().getName();
  }

  public SecretValue pendingValue() {
    return pending
        .get()
        .orElseThrow(
            () ->
                new RotationFailedException(
                    ManagedSecretConditions.ROTATION_PENDING_MISSING,
                    "the PENDING version " + pendingVersionId + " has no stored value"));
  }
}
