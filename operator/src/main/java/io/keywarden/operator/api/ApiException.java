package io.keywarden.operator.api;

import io.keywarden.operator.failure.RequestException;

/** Shorthands for the request failures the API's parsing raises; {@link ApiError} answers them. */
public final class ApiException {

  private ApiException() {}

  public static RequestException badRequest(String message) {
    return RequestException.invalidParameter(message);
  }

  public static RequestException notFound(String message) {
    return RequestException.notFound(message);
  }
}
