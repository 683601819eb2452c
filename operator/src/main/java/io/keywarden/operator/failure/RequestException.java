package io.keywarden.operator.failure;

/**
 * A failure of one API request that says nothing about the resource's health: bad parameters, an
 * unknown name, too many requests at once.
 */
public final class RequestException extends KeywardenException {

  private RequestException(Failure failure, String reason, String message) {
    super(failure, reason, message, null);
  }

  public static RequestException invalidParameter(String message) {
    return new RequestException(Failure.INVALID_PARAMETER, "InvalidParameter", message);
  }

  public static RequestException invalidRequest(String message) {
    return new RequestException(Failure.INVALID_REQUEST, "InvalidRequest", message);
  }

  public static RequestException tooLarge(String message) {
    return new RequestException(Failure.VALUE_TOO_LARGE, "ValueTooLarge", message);
  }

  public static RequestException notFound(String message) {
    return new RequestException(Failure.NOT_FOUND, "NotFound", message);
  }

  public static RequestException unknownOperation(String message) {
    return new RequestException(Failure.UNKNOWN_OPERATION, "UnknownOperation", message);
  }

  public static RequestException notServed(String message) {
    return new RequestException(Failure.NOT_SERVED, "NotServed", message);
  }

  public static RequestException resourceExists(String message) {
    return new RequestException(Failure.RESOURCE_EXISTS, "ResourceExists", message);
  }

  public static RequestException invalidNextToken(String message) {
    return new RequestException(Failure.INVALID_NEXT_TOKEN, "InvalidNextToken", message);
  }

  public static RequestException throttled(String message) {
    return new RequestException(Failure.THROTTLED, "Throttled", message);
  }

  public static RequestException overloaded(String message) {
    return new RequestException(Failure.OVERLOADED, "Overloaded", message);
  }
}
