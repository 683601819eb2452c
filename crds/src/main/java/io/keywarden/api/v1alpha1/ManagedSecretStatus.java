package io.keywarden.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator reports about a ManagedSecret. Never holds a value. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ManagedSecretStatus {

  private String currentVersionId;
  private String previousVersionId;
  private String pendingVersionId;

  @JsonPropertyDescription(
      "Every stored version, newest first, with its staging labels; never a value.")
  private List<SecretVersion> versions = new ArrayList<>();

  private String lastRotatedAt;
  private String nextRotationAt;

  @JsonPropertyDescription(
      "The day of the last successful read of a value (GetSecretValue), as AWS Secrets Manager's"
          + " LastAccessedDate: midnight UTC of that day, written at most once a day.")
  private String lastAccessedDate;

  @JsonPropertyDescription(
      "A rotation in progress: the AWS step reached, so that it resumes after a restart.")
  private RotationProgress rotation;

  @JsonPropertyDescription(
      "Failed rotation attempts since the last success; retries back off exponentially.")
  private Integer rotationFailures;

  @JsonPropertyDescription("No new rotation attempt before this time (backoff after a failure).")
  private String retryRotationAt;

  @JsonPropertyDescription(
      "Ready, Rotating and Degraded, following the Kubernetes condition conventions.")
  private List<Condition> conditions = new ArrayList<>();

  private Long observedGeneration;

  public String getCurrentVersionId() {
    return currentVersionId;
  }

  public void setCurrentVersionId(String currentVersionId) {
    this.currentVersionId = currentVersionId;
  }

  public String getPreviousVersionId() {
    return previousVersionId;
  }

  public void setPreviousVersionId(String previousVersionId) {
    this.previousVersionId = previousVersionId;
  }

  public String getPendingVersionId() {
    return pendingVersionId;
  }

  public void setPendingVersionId(String pendingVersionId) {
    this.pendingVersionId = pendingVersionId;
  }

  public List<SecretVersion> getVersions() {
    return versions;
  }

  public void setVersions(List<SecretVersion> versions) {
    this.versions = versions;
  }

  public String getLastRotatedAt() {
    return lastRotatedAt;
  }

  public void setLastRotatedAt(String lastRotatedAt) {
    this.lastRotatedAt = lastRotatedAt;
  }

  public String getNextRotationAt() {
    return nextRotationAt;
  }

  public void setNextRotationAt(String nextRotationAt) {
    this.nextRotationAt = nextRotationAt;
  }

  public String getLastAccessedDate() {
    return lastAccessedDate;
  }

  public void setLastAccessedDate(String lastAccessedDate) {
    this.lastAccessedDate = lastAccessedDate;
  }

  public RotationProgress getRotation() {
    return rotation;
  }

  public void setRotation(RotationProgress rotation) {
    this.rotation = rotation;
  }

  public Integer getRotationFailures() {
    return rotationFailures;
  }

  public void setRotationFailures(Integer rotationFailures) {
    this.rotationFailures = rotationFailures;
  }

  public String getRetryRotationAt() {
    return retryRotationAt;
  }

  public void setRetryRotationAt(String retryRotationAt) {
    this.retryRotationAt = retryRotationAt;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }
}
