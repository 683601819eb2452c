package io.keywarden.operator.kms;

/** The KMS could not serve a request: unreachable, throttled, or the key is disabled. */
public class KmsException extends RuntimeException {

  /** Why, as a condition reason (CamelCase). */
  private final String reason;

  public KmsException(String reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public KmsException(String reason, String message) {
    this(reason, message, null);
  }

  public String reason() {
    return reason;
  }
}
