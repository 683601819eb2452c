package io.keywarden.operator.managedsecret;

/** Input the user must fix; the message starts with the field it is about. */
public class InvalidSpecException extends RuntimeException {

  private final String field;
  private final String reason;

  public InvalidSpecException(String field, String problem) {
    this(field, problem, "InvalidSpec");
  }

  public InvalidSpecException(String field, String problem, String reason) {
    super(field + " " + problem);
    this.field = field;
    this.reason = reason;
  }

  public String field() {
    return field;
  }

  /** Condition reason, CamelCase. */
  public String reason() {
    return reason;
  }
}
