package io.keywarden.operator.managedsecret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local provider with keys from a mounted file: while the file is gone (a KMS outage), secrets
 * go Degraded, nothing is lost, and everything recovers by itself when the keys return.
 */
@KubernetesIT
class KmsOutageIT {

  @TempDir static Path keys;
  private static Path keyFile;
  private static OperatorFixture fixture;

  @BeforeAll
  static void startOperator(TestCluster cluster) throws IOException {
    keyFile = keys.resolve("master-keys.properties");
    Files.writeString(
        keyFile, "default.v1=" + Base64.getEncoder().encodeToString(AesGcm.newKey()) + "\n");
    fixture =
        new OperatorFixture(
                cluster,
                Map.of(
                    "KEYWARDEN_KMS_LOCAL_KEY_FILE",
                    keyFile.toString(),
                    "KEYWARDEN_KMS_HEALTH_INTERVAL",
                    "2s"))
            .start();
  }

  @AfterAll
  static void stopOperator() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void outageDegradesLosesNothingAndHealsByItself(TestNamespace ns) throws IOException {
    fixture.apply(ns.name(), synced("before-outage"));
    fixture.awaitReady(ns.name(), "before-outage");
    String value = fixture.awaitSynced(ns.name(), "before-outage-plain", "value");
    String versionId = fixture.get(ns.name(), "before-outage").getStatus().getCurrentVersionId();

    fixture.operator.stop();
    Path away = keys.resolve("unmounted");
    Files.move(keyFile, away);
    fixture.client.secrets().inNamespace(ns.name()).withName("before-outage-plain").delete();
    // A replica that has never reached its KMS is live but not ready: it has nothing cached to
    // serve.
    fixture.operator.startLive();
    assertThat(fixture.operator.http("/q/health/live").statusCode()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              var ready = fixture.operator.http("/q/health/ready");
              assertThat(ready.statusCode()).isEqualTo(503);
              assertThat(ready.body())
                  .contains("kms-local")
                  .contains("keywarden.kms.local.key-file");
            });
    fixture.apply(ns.name(), synced("during-outage"));

    Condition degraded =
        fixture.awaitCondition(ns.name(), "before-outage", "Degraded", "True", "KmsUnavailable");
    assertThat(degraded.getMessage()).contains("keywarden.kms.local.key-file");
    fixture.awaitCondition(ns.name(), "during-outage", "Ready", "False", "KmsUnavailable");
    assertThat(fixture.get(ns.name(), "before-outage").getStatus().getCurrentVersionId())
        .isEqualTo(versionId);
    assertThat(fixture.get(ns.name(), "during-outage").getStatus().getCurrentVersionId()).isNull();

    Files.move(away, keyFile);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> fixture.operator.http("/q/health/ready").statusCode() == 200);
    assertThat(fixture.operator.http("/q/health/group/kms").body()).contains("\"status\": \"UP\"");

    fixture.awaitCondition(ns.name(), "before-outage", "Degraded", "False", "Healthy");
    assertThat(fixture.awaitSynced(ns.name(), "before-outage-plain", "value")).isEqualTo(value);
    fixture.awaitReady(ns.name(), "during-outage");
    assertThat(fixture.get(ns.name(), "before-outage").getStatus().getCurrentVersionId())
        .isEqualTo(versionId);
  }

  private static String synced(String name) {
    return """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: %s}
        spec:
          generate: {}
          syncToSecret: {name: %s-plain}
        """
        .formatted(name, name);
  }
}
