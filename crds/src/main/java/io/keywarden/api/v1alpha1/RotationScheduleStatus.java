package io.keywarden.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class RotationScheduleStatus {

  private String lastRotationTime;
  private String nextRotationTime;
  private RotationResult lastResult;
  private List<RotationResult> history = new ArrayList<>();
  private List<TargetStatus> secrets = new ArrayList<>();
  private List<Condition> conditions = new ArrayList<>();
  private Long observedGeneration;

  public String getLastRotationTime() {
    return lastRotationTime;
  }

  public void setLastRotationTime(String lastRotationTime) {
    this.lastRotationTime = lastRotationTime;
  }

  public String getNextRotationTime() {
    return nextRotationTime;
  }

  public void setNextRotationTime(String nextRotationTime) {
    this.nextRotationTime = nextRotationTime;
  }

  public RotationResult getLastResult() {
    return lastResult;
  }

  public void setLastResult(RotationResult lastResult) {
    this.lastResult = lastResult;
  }

  public List<RotationResult> getHistory() {
    return history;
  }

  public void setHistory(List<RotationResult> history) {
    this.history = history;
  }

  public List<TargetStatus> getSecrets() {
    return secrets;
  }

  public void setSecrets(List<TargetStatus> secrets) {
    this.secrets = secrets;
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

  /** Per target secret: when this schedule last rotated it and when it will next. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class TargetStatus {
    private String name;
    private String lastRotationTime;
    private String nextRotationTime;

    public TargetStatus() {}

    public TargetStatus(String name, String lastRotationTime, String nextRotationTime) {
      this.name = name;
      this.lastRotationTime = lastRotationTime;
      this.nextRotationTime = nextRotationTime;
    }

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public String getLastRotationTime() {
      return lastRotationTime;
    }

    public void setLastRotationTime(String lastRotationTime) {
      this.lastRotationTime = lastRotationTime;
    }

    public String getNextRotationTime() {
      return nextRotationTime;
    }

    public void setNextRotationTime(String nextRotationTime) {
      this.nextRotationTime = nextRotationTime;
    }
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class RotationResult {
    public enum Result {
      Succeeded,
      Failed,
      RolledBack
    }

    private String secret;
    private String versionId;
    private Result result;
    private String reason;
    private String message;
    private String startedAt;
    private String finishedAt;

    public String getSecret() {
      return secret;
    }

    public void setSecret(String secret) {
      this.secret = secret;
    }

    public String getVersionId() {
      return versionId;
    }

    public void setVersionId(String versionId) {
      this.versionId = versionId;
    }

    public Result getResult() {
      return result;
    }

    public void setResult(Result result) {
      this.result = result;
    }

    public String getReason() {
      return reason;
    }

    public void setReason(String reason) {
      this.reason = reason;
    }

    public String getMessage() {
      return message;
    }

    public void setMessage(String message) {
      this.message = message;
    }

    public String getStartedAt() {
      return startedAt;
    }

    public void setStartedAt(String startedAt) {
      this.startedAt = startedAt;
    }

    public String getFinishedAt() {
      return finishedAt;
    }

    public void setFinishedAt(String finishedAt) {
      this.finishedAt = finishedAt;
    }
  }
}
