package io.keywarden.operator.failure;

/**
 * Every failure the operator raises on purpose: a {@link Failure} kind, which the API and the
 * reconciler translate, and a reason (CamelCase, one of the constants beside the condition types in
 * the crds module). Messages name the field or object to fix and never carry a value or a token.
 */
public abstract sealed class KeywardenException extends RuntimeException
    permits InvalidSpecException,
        UnknownKmsKeyException,
        KmsException,
        CorruptEnvelopeException,
        MissingCiphertextException,
        AccessDeniedException,
        SignatureException,
        RotationFailedException,
        ConflictException,
        RequestException {

  private final Failure failure;
  private final String reason;

  KeywardenException(Failure failure, String reason, String message, Throwable cause) {
    super(message, cause);
    this.failure = failure;
    this.reason = reason;
  }

  public Failure failure() {
    return failure;
  }

  /** Condition reason, CamelCase. */
  public String reason() {
    return reason;
  }

  /** The first of our own exceptions in a cause chain, or null. */
  public static KeywardenException find(Throwable thrown) {
    for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof KeywardenException own) {
        return own;
      }
    }
    return null;
  }
}
