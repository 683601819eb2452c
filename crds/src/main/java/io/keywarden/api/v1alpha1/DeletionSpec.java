package io.keywarden.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.ValidationRule;

/** What deleting the ManagedSecret (or its namespace) does with its versions. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DeletionSpec {

  /** AWS Secrets Manager's default RecoveryWindowInDays, and Keywarden's. */
  public static final int DEFAULT_RECOVERY_WINDOW_DAYS = 7;

  @JsonPropertyDescription(
      "Days the versions' ciphertext is kept after the ManagedSecret or its namespace is deleted,"
          + " so that it can be restored (annotation keywarden.io/restore on a new ManagedSecret of"
          + " the same namespace and name). 0 deletes at once, as AWS's"
          + " ForceDeleteWithoutRecovery; otherwise 7 to 30, as AWS's RecoveryWindowInDays."
          + " Default 7.")
  @Default("7")
  @ValidationRule(
      value = "self == 0 || (self >= 7 && self <= 30)",
      message =
          "spec.deletion.recoveryWindowDays must be 0 (delete at once) or 7 to 30 days, as AWS"
              + " Secrets Manager's RecoveryWindowInDays",
      reason = "FieldValueInvalid")
  private Integer recoveryWindowDays = DEFAULT_RECOVERY_WINDOW_DAYS;

  public Integer getRecoveryWindowDays() {
    return recoveryWindowDays;
  }

  public void setRecoveryWindowDays(Integer recoveryWindowDays) {
    this.recoveryWindowDays = recoveryWindowDays;
  }
}
