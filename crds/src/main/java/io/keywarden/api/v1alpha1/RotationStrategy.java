package io.keywarden.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** How a new value comes about and reaches the systems that use it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.type != 'hook' || has(self.hook)",
    message = "spec.strategy.hook is required when spec.strategy.type is hook",
    fieldPath = ".hook",
    reason = "FieldValueRequired")
@ValidationRule(
    value = "self.type != 'postgresql' || has(self.postgresql)",
    message = "spec.strategy.postgresql is required when spec.strategy.type is postgresql",
    fieldPath = ".postgresql",
    reason = "FieldValueRequired")
@ValidationRule(
    value = "self.type == 'hook' || !has(self.hook)",
    message = "spec.strategy.hook is only allowed when spec.strategy.type is hook",
    fieldPath = ".hook",
    reason = "FieldValueForbidden")
@ValidationRule(
    value = "self.type == 'postgresql' || !has(self.postgresql)",
    message = "spec.strategy.postgresql is only allowed when spec.strategy.type is postgresql",
    fieldPath = ".postgresql",
    reason = "FieldValueForbidden")
public class RotationStrategy {

  public enum Type {
    generate,
    hook,
    postgresql,
    rotateEncryptionKey
  }

  @JsonPropertyDescription(
      "generate: a new random value; hook: your HTTPS endpoint sets and tests it; "
          + "postgresql: change a role's password; rotateEncryptionKey: re-wrap every version under a new KMS key version.")
  @Required
  private Type type;

  private HookStrategy hook;
  private PostgresqlStrategy postgresql;

  public Type getType() {
    return type;
  }

  public void setType(Type type) {
    this.type = type;
  }

  public HookStrategy getHook() {
    return hook;
  }

  public void setHook(HookStrategy hook) {
    this.hook = hook;
  }

  public PostgresqlStrategy getPostgresql() {
    return postgresql;
  }

  public void setPostgresql(PostgresqlStrategy postgresql) {
    this.postgresql = postgresql;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class HookStrategy {
    @JsonPropertyDescription("HTTPS endpoint that receives the setSecret and testSecret steps.")
    @Required
    @Pattern("^https://.+")
    @Size(max = 2048)
    private String url;

    @JsonPropertyDescription(
        "Audience of the operator's ServiceAccount token sent as Bearer credential.")
    @Size(max = 253)
    private String audience;

    @JsonPropertyDescription(
        "PEM CA bundle that signs the endpoint's certificate; empty means the system trust store.")
    @Size(max = 65536)
    private String caBundle;

    @Min(1)
    @Max(300)
    @Default("30")
    private Integer timeoutSeconds = 30;

    public String getUrl() {
      return url;
    }

    public void setUrl(String url) {
      this.url = url;
    }

    public String getAudience() {
      return audience;
    }

    public void setAudience(String audience) {
      this.audience = audience;
    }

    public String getCaBundle() {
      return caBundle;
    }

    public void setCaBundle(String caBundle) {
      this.caBundle = caBundle;
    }

    public Integer getTimeoutSeconds() {
      return timeoutSeconds;
    }

    public void setTimeoutSeconds(Integer timeoutSeconds) {
      this.timeoutSeconds = timeoutSeconds;
    }
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class PostgresqlStrategy {
    @Required
    @Size(min = 1, max = 253)
    private String host;

    @Min(1)
    @Max(65535)
    @Default("5432")
    private Integer port = 5432;

    @Default("postgres")
    @Size(max = 63)
    private String database = "postgres";

    @JsonPropertyDescription(
        "The role whose password is the rotated secret's value (or its password key).")
    @Required
    @Size(min = 1, max = 63)
    private String role;

    @JsonPropertyDescription(
        "ManagedSecret holding the admin credentials (JSON with username and password) used to change the password.")
    @Required
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    private String adminSecretRef;

    @Default("prefer")
    @Pattern("^(disable|allow|prefer|require|verify-ca|verify-full)$")
    private String sslMode = "prefer";

    public String getHost() {
      return host;
    }

    public void setHost(String host) {
      this.host = host;
    }

    public Integer getPort() {
      return port;
    }

    public void setPort(Integer port) {
      this.port = port;
    }

    public String getDatabase() {
      return database;
    }

    public void setDatabase(String database) {
      this.database = database;
    }

    public String getRole() {
      return role;
    }

    public void setRole(String role) {
      this.role = role;
    }

    public String getAdminSecretRef() {
      return adminSecretRef;
    }

    public void setAdminSecretRef(String adminSecretRef) {
      this.adminSecretRef = adminSecretRef;
    }

    public String getSslMode() {
      return sslMode;
    }

    public void setSslMode(String sslMode) {
      this.sslMode = sslMode;
    }
  }
}
