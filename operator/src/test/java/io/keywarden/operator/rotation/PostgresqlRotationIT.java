package io.keywarden.operator.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Condition;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.RotationSchedule;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.operator.it.PostgresServer;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The built-in postgresql rotator against a real PostgreSQL server. */
@KubernetesIT
class PostgresqlRotationIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static OperatorFixture fixture;
  private static PostgresServer postgres;

  @BeforeAll
  static void start(TestCluster cluster) throws Exception {
    postgres = PostgresServer.start();
    fixture =
        new OperatorFixture(cluster, Map.of("KEYWARDEN_ROTATION_MINIMUM_INTERVAL", "1m")).start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  @Test
  void afterRotationTheRoleLogsInWithTheNewPasswordOnly(TestNamespace ns) throws Exception {
    String old = prepare(ns, "orders");
    schedule(ns, "orders", "postgres");

    String rotated =
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> password(ns, "orders"), p -> !p.equals(old));

    assertThat(postgres.canLogIn("orders", rotated)).as("new CURRENT password").isTrue();
    assertThat(postgres.canLogIn("orders", old)).as("old password").isFalse();
    ManagedSecret secret = fixture.get(ns.name(), "orders");
    assertThat(secret.getStatus().getPreviousVersionId()).isNotNull();
    assertThat(fixture.operator.logText()).doesNotContain(rotated).doesNotContain(old);
  }

  @Test
  void failingTestStepLeavesTheOldPasswordWorking(TestNamespace ns) throws Exception {
    String old = prepare(ns, "reports");
    postgres.admin("CREATE DATABASE reports_locked");
    postgres.admin("REVOKE CONNECT ON DATABASE reports_locked FROM PUBLIC");
    String current = fixture.get(ns.name(), "reports").getStatus().getCurrentVersionId();
    schedule(ns, "reports", "reports_locked");

    Condition degraded =
        fixture.awaitCondition(ns.name(), "reports", "Degraded", "True", "RotationTestFailed");

    assertThat(degraded.getMessage())
        .contains("spec.strategy.postgresql")
        .contains("CURRENT is unchanged");
    ManagedSecret secret = fixture.get(ns.name(), "reports");
    assertThat(secret.getStatus().getCurrentVersionId()).isEqualTo(current);
    assertThat(secret.getStatus().getPendingVersionId()).isNull();
    assertThat(secret.getStatus().getVersions()).hasSize(1);
    assertThat(postgres.canLogIn("reports", old)).as("old password after rollback").isTrue();
    // The schedule's status is written after the secret's, at the end of its reconciliation.
    RotationSchedule rs =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    fixture
                        .client
                        .resources(RotationSchedule.class)
                        .inNamespace(ns.name())
                        .withName("reports")
                        .get(),
                r -> r.getStatus() != null && r.getStatus().getLastResult() != null);
    assertThat(rs.getStatus().getLastResult().getResult().name()).isEqualTo("Failed");
  }

  /** An admin secret, and an app secret whose CURRENT password the role really has. */
  private static String prepare(TestNamespace ns, String role) throws Exception {
    if (fixture
            .client
            .resources(ManagedSecret.class)
            .inNamespace(ns.name())
            .withName("pg-admin")
            .get()
        == null) {
      fixture.createSecret(
          ns.name(),
          "pg-admin-source",
          "credentials",
          JSON.writeValueAsString(
                  Map.of("username", PostgresServer.ADMIN, "password", postgres.adminPassword))
              .getBytes(StandardCharsets.UTF_8));
      fixture.apply(
          ns.name(),
          """
          apiVersion: keywarden.io/v1alpha1
          kind: ManagedSecret
          metadata: {name: pg-admin}
          spec:
            fromSecret: {name: pg-admin-source, key: credentials}
          """);
      fixture.awaitReady(ns.name(), "pg-admin");
    }
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: %s}
        spec:
          generate:
            passwordLength: 24
            excludePunctuation: true
            secretStringTemplate: '{"username": "%s"}'
            generateStringKeys: [password]
          syncToSecret: {name: %s-env}
        """
            .formatted(role, role, role));
    fixture.awaitReady(ns.name(), role);
    String password = fixture.awaitSynced(ns.name(), role + "-env", "password");
    postgres.admin("CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'");
    assertThat(postgres.canLogIn(role, password)).isTrue();
    return password;
  }

  private static void schedule(TestNamespace ns, String role, String database) {
    RotationIT.applyTo(
        fixture,
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: RotationSchedule
        metadata: {name: %s}
        spec:
          secretRef: {name: %s}
          schedule: rate(1 day)
          rotateImmediately: true
          strategy:
            type: postgresql
            postgresql: {host: 127.0.0.1, port: %d, database: %s, role: %s, adminSecretRef: pg-admin, sslMode: disable}
        """
            .formatted(role, role, postgres.port, database, role));
  }

  private static String password(TestNamespace ns, String role) {
    return fixture.awaitSynced(ns.name(), role + "-env", "password");
  }
}
