package io.keywarden.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "has(self.generate) != has(self.fromSecret)",
    message = "exactly one of spec.generate or spec.fromSecret must be set",
    reason = "FieldValueInvalid")
@ValidationRule(
    value =
        "!has(oldSelf.fromSecret) || (has(self.fromSecret) && self.fromSecret == oldSelf.fromSecret)",
    message =
        "spec.fromSecret is imported once and cannot be changed; put a new value through the API instead",
    reason = "FieldValueForbidden")
public class ManagedSecretSpec {

  @JsonPropertyDescription("Free text shown by describe; never a value.")
  @Size(max = 2048)
  private String description;

  @JsonPropertyDescription(
      "Alias of a configured KMS key that wraps this secret's data keys. Empty means the default key. "
          + "Changing it re-wraps every version under the new key.")
  @Size(max = 253)
  private String kmsKeyId;

  @JsonPropertyDescription(
      "Generate the first value randomly (parameters of AWS GetRandomPassword).")
  private GenerateSpec generate;

  @JsonPropertyDescription(
      "Import the first value once from a key of a core Secret in the same namespace.")
  private FromSecretSpec fromSecret;

  @JsonPropertyDescription(
      "Resource-based policy: subjects and the actions they may perform on the value. "
          + "Mapped to a Role and RoleBinding owned by this ManagedSecret.")
  @Size(max = 64)
  private List<AccessRule> access = new ArrayList<>();

  @JsonPropertyDescription(
      "How many versions to keep, counting those with a staging label. Older deprecated versions are pruned.")
  @Min(2)
  @Max(100)
  @Default("5")
  private Integer versionsToKeep = 5;

  @JsonPropertyDescription(
      "Opt-in copy of the CURRENT plaintext into a core Secret, for apps that need env vars. "
          + "The value is then readable by anyone who can read that Secret.")
  private SyncToSecretSpec syncToSecret;

  @JsonPropertyDescription(
      "What deleting this ManagedSecret, or its namespace, does with its versions: kept for a"
          + " recovery window (default 7 days) in the operator namespace, then purged.")
  private DeletionSpec deletion;

  public String getDescription() {
    return description;
  }

  public void setDescription(String description) {
    this.description = description;
  }

  public String getKmsKeyId() {
    return kmsKeyId;
  }

  public void setKmsKeyId(String kmsKeyId) {
    this.kmsKeyId = kmsKeyId;
  }

  public GenerateSpec getGenerate() {
    return generate;
  }

  public void setGenerate(GenerateSpec generate) {
    this.generate = generate;
  }

  public FromSecretSpec getFromSecret() {
    return fromSecret;
  }

  public void setFromSecret(FromSecretSpec fromSecret) {
    this.fromSecret = fromSecret;
  }

  public List<AccessRule> getAccess() {
    return access;
  }

  public void setAccess(List<AccessRule> access) {
    this.access = access;
  }

  public Integer getVersionsToKeep() {
    return versionsToKeep;
  }

  public void setVersionsToKeep(Integer versionsToKeep) {
    this.versionsToKeep = versionsToKeep;
  }

  public SyncToSecretSpec getSyncToSecret() {
    return syncToSecret;
  }

  public void setSyncToSecret(SyncToSecretSpec syncToSecret) {
    this.syncToSecret = syncToSecret;
  }

  public DeletionSpec getDeletion() {
    return deletion;
  }

  public void setDeletion(DeletionSpec deletion) {
    this.deletion = deletion;
  }

  /** The recovery window in days, the default when spec.deletion is absent. */
  public int recoveryWindowDays() {
    return deletion == null || deletion.getRecoveryWindowDays() == null
        ? DeletionSpec.DEFAULT_RECOVERY_WINDOW_DAYS
        : deletion.getRecoveryWindowDays();
  }
}
