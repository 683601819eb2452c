package io.keywarden.operator.failure;

/** The KMS could not serve a request: unreachable, throttled, or the key is disabled. */
public final class KmsException extends KeywardenException {

  /** {@code reason} is one of the KMS reasons of {@code ManagedSecretConditions}. */
  public KmsException(String reason, String message, Throwable cause) {
    super(Failure.KMS_UNAVAILABLE, reason, message, cause);
  }

  public KmsException(String reason, String message) {
    this(reason, message, null);
  }
}
