package io.keywarden.operator.failure;

/** Authentication or authorization failed; the message says why and never contains the token. */
public final class AccessDeniedException extends KeywardenException {

  private final boolean authenticated;

  public AccessDeniedException(boolean authenticated, String message) {
    super(
        authenticated ? Failure.ACCESS_DENIED : Failure.UNAUTHENTICATED,
        authenticated ? "AccessDenied" : "Unauthenticated",
        message,
        null);
    this.authenticated = authenticated;
  }

  /** False: 401 (who are you?); true: 403 (you may not). */
  public boolean authenticated() {
    return authenticated;
  }
}
