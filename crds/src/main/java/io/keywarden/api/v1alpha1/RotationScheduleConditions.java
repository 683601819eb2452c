package io.keywarden.api.v1alpha1;

/** The condition type of a RotationSchedule's status and the reasons the operator writes. */
public final class RotationScheduleConditions {

  public static final String READY = "Ready";

  /** Ready=True: the targets rotate on the schedule. */
  public static final String SCHEDULED = "Scheduled";

  /** Ready=True with spec.suspend: nothing rotates until it is lifted. */
  public static final String SUSPENDED = "Suspended";

  public static final String INVALID_SCHEDULE = "InvalidSchedule";
  public static final String INVALID_STRATEGY = "InvalidStrategy";

  /** spec.secretRef names a ManagedSecret that does not exist. */
  public static final String SECRET_NOT_FOUND = "SecretNotFound";

  private RotationScheduleConditions() {}
}
