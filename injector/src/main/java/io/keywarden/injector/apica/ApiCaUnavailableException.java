package io.keywarden.injector.apica;

/** The configured API CA cannot be had now; the message says why and what to check. */
public final class ApiCaUnavailableException extends RuntimeException {

  public ApiCaUnavailableException(String message) {
    super(message);
  }
}
