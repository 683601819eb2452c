package io.keywarden.operator.api;

import io.keywarden.operator.failure.Failure;
import io.keywarden.operator.failure.KeywardenException;

/**
 * An error answer: HTTP status, the AWS Secrets Manager error type that SDKs raise from {@code
 * __type} (names from botocore's Secrets Manager model where one fits), a message for the user and,
 * for what is worth retrying, Retry-After. Messages never contain values or tokens; an unforeseen
 * error says only "see the operator log".
 */
public record ApiError(int status, String type, String message, Integer retryAfterSeconds) {

  /** The answer for a failure kind, message aside: the one mapping from failures to HTTP. */
  record Shape(int status, String type, Integer retryAfterSeconds) {}

  static Shape shape(Failure failure) {
    return switch (failure) {
      case INVALID_SPEC, INVALID_PARAMETER -> new Shape(400, "InvalidParameterException", null);
      case INVALID_REQUEST -> new Shape(400, "InvalidRequestException", null);
      case VALUE_TOO_LARGE -> new Shape(413, "InvalidParameterException", null);
      case NOT_FOUND -> new Shape(404, "ResourceNotFoundException", null);
      case UNKNOWN_OPERATION -> new Shape(404, "UnknownOperationException", null);
      // AWS's own answer to an operation it does not allow on a resource.
      case NOT_SERVED -> new Shape(400, "InvalidRequestException", null);
      case RESOURCE_EXISTS -> new Shape(400, "ResourceExistsException", null);
      case INVALID_NEXT_TOKEN -> new Shape(400, "InvalidNextTokenException", null);
      case UNAUTHENTICATED -> new Shape(401, "UnrecognizedClientException", null);
      case ACCESS_DENIED -> new Shape(403, "AccessDeniedException", null);
      // The common errors of AWS's JSON services, with AWS's status; the SDKs raise by __type.
      case INCOMPLETE_SIGNATURE -> new Shape(400, "IncompleteSignatureException", null);
      case INVALID_SIGNATURE -> new Shape(400, "InvalidSignatureException", null);
      case EXPIRED_CREDENTIALS -> new Shape(400, "ExpiredTokenException", null);
      // 400 as AWS answers it, not the bearer path's 401: the JDK's HttpURLConnection (the Java
      // SDK's url-connection client) drops the body of a 401 to a streamed POST, and with it
      // the error code.
      case UNRECOGNIZED_CREDENTIALS -> new Shape(400, "UnrecognizedClientException", null);
      case UNKNOWN_KMS_KEY -> new Shape(503, "ServiceUnavailableException", 30);
      case KMS_UNAVAILABLE -> new Shape(503, "ServiceUnavailableException", 5);
      case DECRYPTION_FAILED, CIPHERTEXT_MISSING -> new Shape(500, "DecryptionFailure", null);
      case ROTATION_FAILED, INTERNAL -> new Shape(500, "InternalServiceError", null);
      case CONFLICT -> new Shape(409, "ConflictException", 1);
      case THROTTLED -> new Shape(429, "ThrottlingException", 5);
      case OVERLOADED -> new Shape(503, "ServiceUnavailableException", 1);
      case KUBERNETES_UNAVAILABLE -> new Shape(503, "ServiceUnavailableException", 2);
    };
  }

  /** The answer to anything an operation threw. */
  public static ApiError of(Throwable thrown) {
    Failure failure = Failure.of(thrown);
    Shape shape = shape(failure);
    KeywardenException own = KeywardenException.find(thrown);
    String message =
        switch (failure) {
          case INTERNAL -> "internal error; see the operator log";
          case KUBERNETES_UNAVAILABLE -> "the Kubernetes API is unavailable; retry shortly";
          case CONFLICT ->
              own != null
                  ? own.getMessage()
                  : "another writer changed this secret at the same moment; retry";
          case KMS_UNAVAILABLE ->
              "the KMS cannot unwrap this value right now (" + own.reason() + "); retry later";
          default -> own == null ? "request failed" : own.getMessage();
        };
    return new ApiError(shape.status(), shape.type(), message, shape.retryAfterSeconds());
  }

  public static ApiError of(KeywardenException failure) {
    return of((Throwable) failure);
  }
}
