package io.keywarden.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "has(self.secretRef) != has(self.selector)",
    message = "exactly one of spec.secretRef or spec.selector must be set",
    reason = "FieldValueInvalid")
public class RotationScheduleSpec {

  @JsonPropertyDescription("The ManagedSecret to rotate, in the same namespace.")
  private SecretRef secretRef;

  @JsonPropertyDescription("Rotate every ManagedSecret of the namespace with matching labels.")
  private LabelSelector selector;

  @JsonPropertyDescription(
      "rate(N minutes|hours|days), AWS cron(min hour day-of-month month day-of-week year), "
          + "or a standard 5-field cron expression; always UTC.")
  @Required
  @Size(min = 1, max = 256)
  private String schedule;

  @JsonPropertyDescription(
      "Rotation may happen anywhere within this duration after the scheduled time, e.g. 2h or 30m.")
  @Pattern("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$")
  @Size(max = 16)
  private String window;

  @JsonPropertyDescription("Rotate once as soon as the schedule is created.")
  @Default("false")
  private Boolean rotateImmediately = false;

  @JsonPropertyDescription("Stop scheduled rotations; manual rotation still works.")
  @Default("false")
  private Boolean suspend = false;

  @Required private RotationStrategy strategy;

  public SecretRef getSecretRef() {
    return secretRef;
  }

  public void setSecretRef(SecretRef secretRef) {
    this.secretRef = secretRef;
  }

  public LabelSelector getSelector() {
    return selector;
  }

  public void setSelector(LabelSelector selector) {
    this.selector = selector;
  }

  public String getSchedule() {
    return schedule;
  }

  public void setSchedule(String schedule) {
    this.schedule = schedule;
  }

  public String getWindow() {
    return window;
  }

  public void setWindow(String window) {
    this.window = window;
  }

  public Boolean getRotateImmediately() {
    return rotateImmediately;
  }

  public void setRotateImmediately(Boolean rotateImmediately) {
    this.rotateImmediately = rotateImmediately;
  }

  public Boolean getSuspend() {
    return suspend;
  }

  public void setSuspend(Boolean suspend) {
    this.suspend = suspend;
  }

  public RotationStrategy getStrategy() {
    return strategy;
  }

  public void setStrategy(RotationStrategy strategy) {
    this.strategy = strategy;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SecretRef {
    @Required
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    private String name;

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }
  }
}
