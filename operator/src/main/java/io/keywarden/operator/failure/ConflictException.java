package io.keywarden.operator.failure;

/**
 * Other writers changed the object between our read and our write more often than a bounded retry
 * absorbs. The caller may simply try again.
 */
public final class ConflictException extends KeywardenException {
  public ConflictException(String message) {
    super(Failure.CONFLICT, "Conflict", message, null);
  }
}
