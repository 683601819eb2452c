package io.keywarden.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** One subject of the resource-based policy, in RBAC subject terms. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.kind == 'ServiceAccount' || !has(self.__namespace__)",
    message = "namespace applies only to kind ServiceAccount",
    fieldPath = ".namespace",
    reason = "FieldValueForbidden")
public class AccessRule {

  public enum SubjectKind {
    ServiceAccount,
    User,
    Group
  }

  public enum Action {
    get,
    update,
    rotate
  }

  @JsonPropertyDescription("RBAC subject kind.")
  @Default("ServiceAccount")
  private SubjectKind kind = SubjectKind.ServiceAccount;

  @JsonPropertyDescription("Subject name.")
  @Required
  @Size(min = 1, max = 253)
  private String name;

  @JsonPropertyDescription(
      "Namespace of a ServiceAccount; empty means the ManagedSecret's namespace.")
  @Size(max = 63)
  private String namespace;

  @JsonPropertyDescription(
      "What the subject may do with the value: get (read), update (put a new value), rotate.")
  @Size(min = 1, max = 3)
  @Default("[\"get\"]")
  private List<Action> actions = new ArrayList<>(List.of(Action.get));

  public SubjectKind getKind() {
    return kind;
  }

  public void setKind(SubjectKind kind) {
    this.kind = kind;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getNamespace() {
    return namespace;
  }

  public void setNamespace(String namespace) {
    this.namespace = namespace;
  }

  public List<Action> getActions() {
    return actions;
  }

  public void setActions(List<Action> actions) {
    this.actions = actions;
  }
}
