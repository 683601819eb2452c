package io.keywarden.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class SyncToSecretSpec {

  @JsonPropertyDescription(
      "Name of the core Secret (same namespace) that receives the CURRENT value; created and owned by Keywarden.")
  @Required
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  private String name;

  @JsonPropertyDescription(
      "Data key for a plain value; JSON values are also split into one key per top-level field.")
  @Pattern("^[-._a-zA-Z0-9]+$")
  private String key = "value";

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getKey() {
    return key;
  }

  public void setKey(String key) {
    this.key = key;
  }
}
