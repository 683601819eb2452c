package io.keywarden.operator.failure;

/**
 * A rotation step failed; the reason is one of the rotation reasons of {@code
 * ManagedSecretConditions}, the message names the field to fix.
 */
public final class RotationFailedException extends KeywardenException {

  public RotationFailedException(String reason, String message) {
    this(reason, message, null);
  }

  public RotationFailedException(String reason, String message, Throwable cause) {
    super(Failure.ROTATION_FAILED, reason, message, cause);
  }
}
