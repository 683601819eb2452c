package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.Condition;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import java.util.List;
import java.util.Optional;

/**
 * Degraded, derived on every reconciliation from what is true now: the checks of this
 * reconciliation (stages that do not decrypt or are missing, objects a user owns), then a rotation
 * whose last attempt failed. Nothing is kept because a reason looked like it came from somewhere.
 */
public final class Degradation {

  private Degradation() {}

  /** Why the secret is degraded, as a condition reason and message. */
  public record Finding(String reason, String message) {}

  public static Optional<Finding> derive(ManagedSecretStatus status, List<Finding> checks) {
    if (!checks.isEmpty()) {
      return Optional.of(checks.get(0));
    }
    if (status.getRotationFailures() != null && status.getRotationFailures() > 0) {
      Condition rotating =
          status.getConditions().stream()
              .filter(c -> ManagedSecretConditions.ROTATING.equals(c.getType()))
              .findFirst()
              .orElse(null);
      if (rotating != null && "False".equals(rotating.getStatus())) {
        return Optional.of(
            new Finding(
                rotating.getReason(),
                rotating.getMessage()
                    + "; CURRENT is unchanged"
                    + (status.getRetryRotationAt() == null
                        ? ""
                        : "; next attempt after " + status.getRetryRotationAt())));
      }
    }
    return Optional.empty();
  }
}
