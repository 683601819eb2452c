package io.keywarden.agent;

import java.io.IOException;
import java.time.Duration;

/**
 * The API answered with an error status; the message is the server's {@code __type} and {@code
 * Message}.
 */
public final class ApiException extends IOException {

  private final int status;
  private final Duration retryAfter;

  ApiException(int status, String message, Duration retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }

  public int status() {
    return status;
  }

  /** The server's {@code Retry-After}, or null. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
