package io.keywarden.operator.rotation;

/**
 * A rotation step failed; the reason is a CamelCase condition reason, the message names the field
 * to fix.
 */
public class RotationFailedException extends RuntimeException {

  private final String reason;

  public RotationFailedException(String reason, String message) {
    this(reason, message, null);
  }

  public RotationFailedException(String reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
