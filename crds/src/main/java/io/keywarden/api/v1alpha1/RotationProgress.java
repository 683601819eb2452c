package io.keywarden.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The step a rotation has reached, persisted so that a restarted operator resumes it. Steps are AWS
 * Secrets Manager's: createSecret, setSecret, testSecret, finishSecret.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RotationProgress {

  public enum Step {
    createSecret,
    setSecret,
    testSecret,
    finishSecret
  }

  private String pendingVersionId;
  private Step step;
  private String startedAt;
  private String reason;
  private String schedule;
  private String strategy;

  public String getPendingVersionId() {
    return pendingVersionId;
  }

  public void setPendingVersionId(String pendingVersionId) {
    this.pendingVersionId = pendingVersionId;
  }

  public Step getStep() {
    return step;
  }

  public void setStep(Step step) {
    this.step = step;
  }

  public String getStartedAt() {
    return startedAt;
  }

  public void setStartedAt(String startedAt) {
    this.startedAt = startedAt;
  }

  public String getReason() {
    return reason;
  }

  public void setReason(String reason) {
    this.reason = reason;
  }

  public String getStrategy() {
    return strategy;
  }

  public void setStrategy(String strategy) {
    this.strategy = strategy;
  }

  public String getSchedule() {
    return schedule;
  }

  public void setSchedule(String schedule) {
    this.schedule = schedule;
  }
}
