package io.keywarden.operator.api;

/**
 * An error answer: HTTP status, an AWS-style error type, and a message for the user. Messages never
 * contain values or tokens.
 */
public class ApiException extends RuntimeException {

  private final int status;
  private final String type;
  private final Integer retryAfterSeconds;

  public ApiException(int status, String type, String message) {
    this(status, type, message, null);
  }

  public ApiException(int status, String type, String message, Integer retryAfterSeconds) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static ApiException badRequest(String message) {
    return new ApiException(400, "InvalidParameterException", message);
  }

  public static ApiException notFound(String message) {
    return new ApiException(404, "ResourceNotFoundException", message);
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  public Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
