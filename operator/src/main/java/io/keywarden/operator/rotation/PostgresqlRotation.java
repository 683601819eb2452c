package io.keywarden.operator.rotation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.RotationStrategy;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.RotationFailedException;
import io.keywarden.operator.generate.ValueGenerator;
import io.keywarden.operator.versions.SecretVersions;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.postgresql.PGConnection;

/**
 * Built-in rotator for a PostgreSQL role: setSecret changes the role's password as the admin
 * (credentials from another ManagedSecret), testSecret logs in as the role with the new password,
 * rollbackSecret restores the CURRENT password after a failed test. The password travels as a SCRAM
 * verifier computed by the driver, so it never appears in server logs or pg_stat_activity.
 */
@ApplicationScoped
public class PostgresqlRotation implements RotationHandler {

  private final ValueGenerator generator;
  private final KubernetesClient client;
  private final SecretVersions versions;
  private final ObjectMapper json;

  public PostgresqlRotation(
      ValueGenerator generator,
      KubernetesClient client,
      SecretVersions versions,
      ObjectMapper json) {
    this.generator = generator;
    this.client = client;
    this.versions = versions;
    this.json = json;
  }

  @Override
  public RotationStrategy.Type type() {
    return RotationStrategy.Type.postgresql;
  }

  @Override
  public SecretValue newValue(RotationContext context) {
    return GenerateRotation.regenerate(generator, context);
  }

  @Override
  public void set(RotationContext context) {
    SecretValue pending = context.pendingValue();
    try {
      changePassword(context, pending);
    } finally {
      pending.wipe();
    }
  }

  @Override
  public void test(RotationContext context) {
    RotationStrategy.PostgresqlStrategy pg = context.strategy().getPostgresql();
    SecretValue pending = context.pendingValue();
    try (Connection connection = connect(pg, pg.getRole(), password(pending))) {
      connection.createStatement().execute("SELECT 1");
    } catch (SQLException e) {
      throw new RotationFailedException(
          ManagedSecretConditions.ROTATION_TEST_FAILED,
          "spec.strategy.postgresql: role "
              + pg.getRole()
              + " cannot log in to "
              + pg.getHost()
              + ":"
              + pg.getPort()
              + "/"
              + pg.getDatabase()
              + " with the new password: "
              + e.getSQLState()
              + " "
              + firstLine(e.getMessage()),
          e);
    } finally {
      pending.wipe();
    }
  }

  @Override
  public void rollback(RotationContext context) {
    SecretValue current = context.current().get();
    try {
      changePassword(context, current);
    } finally {
      current.wipe();
    }
  }

  private void changePassword(RotationContext context, SecretValue value) {
    RotationStrategy.PostgresqlStrategy pg = context.strategy().getPostgresql();
    ManagedSecret adminSecret =
        client
            .resources(ManagedSecret.class)
            .inNamespace(context.namespace())
            .withName(pg.getAdminSecretRef())
            .get();
    if (adminSecret == null
        || adminSecret.getStatus() == null
        || adminSecret.getStatus().getCurrentVersionId() == null) {
      throw new RotationFailedException(
          ManagedSecretConditions.ROTATION_SET_FAILED,
          "spec.strategy.postgresql.adminSecretRef: ManagedSecret "
              + context.namespace()
              + "/"
              + pg.getAdminSecretRef()
              + " does not exist or is not Ready");
    }
    SecretValue admin = versions.read(adminSecret, adminSecret.getStatus().getCurrentVersionId());
    String adminUser;
    String adminPassword;
    try {
      JsonNode credentials = json.readTree(admin.bytes());
      adminUser = credentials.path("username").asText(null);
      adminPassword = credentials.path("password").asText(null);
    } catch (Exception e) {
      adminUser = null;
      adminPassword = null;
    } finally {
      admin.wipe();
    }
    if (adminUser == null || adminPassword == null) {
      throw new RotationFailedException(
          ManagedSecretConditions.ROTATION_SET_FAILED,
          "spec.strategy.postgresql.adminSecretRef: the value of "
              + pg.getAdminSecretRef()
              + " must be JSON with username and password");
    }
    try (Connection connection = connect(pg, adminUser, adminPassword)) {
      connection
          .unwrap(PGConnection.class)
          .alterUserPassword(pg.getRole(), password(value).toCharArray(), null);
    } catch (SQLException e) {
      throw new RotationFailedException(
          ManagedSecretConditions.ROTATION_SET_FAILED,
          "spec.strategy.postgresql: cannot change the password of role "
              + pg.getRole()
              + " as "
              + adminUser
              + ": "
              + e.getSQLState()
              + " "
              + firstLine(e.getMessage()),
          e);
    }
  }

  /** The role's password: the password field of a JSON value, or the whole value. */
  private String password(SecretValue value) {
    try {
      JsonNode node = json.readTree(value.bytes());
      if (node != null && node.isObject() && node.hasNonNull("password")) {
        return node.get("password").asText();
      }
    } catch (Exception notJson) {
      // a plain password
    }
    return value.asString();
  }

  private static Connection connect(
      RotationStrategy.PostgresqlStrategy pg, String user, String password) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", user);
    properties.setProperty("password", password);
    properties.setProperty("sslmode", pg.getSslMode() == null ? "prefer" : pg.getSslMode());
    properties.setProperty("connectTimeout", "10");
    properties.setProperty("ApplicationName", "keywarden-rotation");
    String url =
        "jdbc:postgresql://"
            + pg.getHost()
            + ":"
            + (pg.getPort() == null ? 5432 : pg.getPort())
            + "/"
            + (pg.getDatabase() == null ? "postgres" : pg.getDatabase());
    return DriverManager.getConnection(url, properties);
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
