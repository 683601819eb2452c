package io.keywarden.operator.failure;

/**
 * A request signed with AWS Signature Version 4 that Keywarden refuses: the header is incomplete,
 * the signature or its scope or date does not verify, or the credentials expired. Messages follow
 * AWS's wording so that users find them in AWS's documentation; they never carry a key.
 */
public final class SignatureException extends KeywardenException {

  private SignatureException(Failure failure, String reason, String message) {
    super(failure, reason, message, null);
  }

  public static SignatureException incomplete(String message) {
    return new SignatureException(Failure.INCOMPLETE_SIGNATURE, "IncompleteSignature", message);
  }

  public static SignatureException invalid(String message) {
    return new SignatureException(Failure.INVALID_SIGNATURE, "InvalidSignature", message);
  }

  public static SignatureException unrecognized(String message) {
    return new SignatureException(Failure.UNRECOGNIZED_CREDENTIALS, "UnrecognizedClient", message);
  }

  public static SignatureException expired(String message) {
    return new SignatureException(Failure.EXPIRED_CREDENTIALS, "ExpiredToken", message);
  }
}
