package io.keywarden.operator.managedsecret;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.failure.Failure;
import io.keywarden.operator.failure.KeywardenException;

/**
 * The one mapping from a failed reconciliation to a ManagedSecret's conditions, and to what the
 * controller does next: input the user must fix makes it not Ready and is checked again later
 * without backoff; what may heal by itself degrades it and retries with backoff; a write that lost
 * a race is simply retried.
 */
public final class FailureConditions {

  private FailureConditions() {}

  public enum Effect {
    /** Ready=False with the reason; retried on a fixed recheck, no backoff. */
    NOT_READY,
    /** Degraded=True with the reason (Ready=False only while there is no CURRENT); backoff. */
    DEGRADED,
    /** Nothing to report: retried with backoff. */
    RETRY
  }

  /** What a failure does to the conditions: the effect and the condition reason. */
  public record Outcome(Effect effect, String reason) {}

  static Effect effect(Failure failure) {
    return switch (failure) {
      case INVALID_SPEC, UNKNOWN_KMS_KEY -> Effect.NOT_READY;
      case KMS_UNAVAILABLE, DECRYPTION_FAILED, CIPHERTEXT_MISSING, ROTATION_FAILED, INTERNAL ->
          Effect.DEGRADED;
      case CONFLICT, KUBERNETES_UNAVAILABLE -> Effect.RETRY;
      // Failures of one API request never come out of a reconciliation but for a bug.
      case INVALID_PARAMETER,
          INVALID_REQUEST,
          VALUE_TOO_LARGE,
          NOT_FOUND,
          UNKNOWN_OPERATION,
          NOT_SERVED,
          RESOURCE_EXISTS,
          INVALID_NEXT_TOKEN,
          UNAUTHENTICATED,
          ACCESS_DENIED,
          INCOMPLETE_SIGNATURE,
          INVALID_SIGNATURE,
          EXPIRED_CREDENTIALS,
          UNRECOGNIZED_CREDENTIALS,
          THROTTLED,
          OVERLOADED ->
          Effect.DEGRADED;
    };
  }

  public static Outcome of(Throwable thrown) {
    Failure failure = Failure.of(thrown);
    Effect effect = effect(failure);
    KeywardenException own = KeywardenException.find(thrown);
    boolean ownReason =
        own != null
            && switch (failure) {
              case INVALID_SPEC,
                  UNKNOWN_KMS_KEY,
                  KMS_UNAVAILABLE,
                  DECRYPTION_FAILED,
                  CIPHERTEXT_MISSING,
                  ROTATION_FAILED ->
                  true;
              default -> false;
            };
    return new Outcome(effect, ownReason ? own.reason() : ManagedSecretConditions.RECONCILE_ERROR);
  }
}
