package io.keywarden.operator.failure;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;

/** Input the user must fix; the message starts with the field it is about. */
public final class InvalidSpecException extends KeywardenException {

  private final String field;

  public InvalidSpecException(String field, String problem) {
    this(field, problem, ManagedSecretConditions.INVALID_SPEC);
  }

  public InvalidSpecException(String field, String problem, String reason) {
    super(Failure.INVALID_SPEC, reason, field + " " + problem, null);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
