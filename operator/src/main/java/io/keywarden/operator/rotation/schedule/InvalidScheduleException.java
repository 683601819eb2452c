package io.keywarden.operator.rotation.schedule;

/**
 * A {@code RotationSchedule} field that cannot be used as written. The message starts with the
 * field path ({@code spec.schedule} or {@code spec.window}) and says what to change, so the
 * reconciler can copy it verbatim into a condition message and an Event.
 */
public final class InvalidScheduleException extends IllegalArgumentException {

  public static final String SCHEDULE_FIELD = "spec.schedule";
  public static final String WINDOW_FIELD = "spec.window";

  private final String field;

  InvalidScheduleException(String field, String problem) {
    super(field + ": " + problem);
    this.field = field;
  }

  /** The field path the user has to fix, e.g. {@code spec.schedule}. */
  public String field() {
    return field;
  }
}
