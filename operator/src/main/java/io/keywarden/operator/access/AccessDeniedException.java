package io.keywarden.operator.access;

/** Authentication or authorization failed; the message says why and never contains the token. */
public class AccessDeniedException extends RuntimeException {

  private final boolean authenticated;

  public AccessDeniedException(boolean authenticated, String message) {
    super(message);
    this.authenticated = authenticated;
  }

  /** False: 401 (who are you?); true: 403 (you may not). */
  public boolean authenticated() {
    return authenticated;
  }
}
