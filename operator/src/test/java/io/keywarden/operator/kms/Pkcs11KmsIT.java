package io.keywarden.operator.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Condition;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.RotationSchedule;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.api.ApiClient;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.operator.it.SoftHsm;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The pkcs11 provider in the real operator process against a SoftHSM2 token made for this test: the
 * operator gets SOFTHSM2_CONF in its environment, a KMS key alias {@code hsm} whose versions are
 * the token's objects {@code keywarden-hsm.vN}, and the PIN from a file (later a Secret).
 */
@KubernetesIT
class Pkcs11KmsIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN_LABEL = "keywarden-it";
  private static final String PIN = "it-pin-2468";

  @TempDir static Path dir;
  private static Path pinFile;
  private static OperatorFixture fixture;
  private static ApiClient api;

  @BeforeAll
  static void start(TestCluster cluster) throws Exception {
    SoftHsm hsm = SoftHsm.at(dir.resolve("softhsm2.conf"));
    hsm.initToken(TOKEN_LABEL, PIN);
    pinFile = Files.writeString(dir.resolve("pin"), PIN + "\n");
    Map<String, String> env = new HashMap<>(hsm.env());
    env.put("KEYWARDEN_KMS_KEYS_HSM_PROVIDER", "pkcs11");
    env.put("KEYWARDEN_KMS_KEYS_HSM_KEY_ID", "keywarden-hsm");
    env.put("KEYWARDEN_KMS_PKCS11_TOKEN_LABEL", TOKEN_LABEL);
    env.put("KEYWARDEN_KMS_PKCS11_PIN_FILE", pinFile.toString());
    fixture = new OperatorFixture(cluster, env).start();
    api = new ApiClient("https://127.0.0.1:" + fixture.apiPort, fixture.apiCa());
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void secretOnTheHsmKeyIsReadRewrappedUnderANewKeyVersionAndReadAfterARestart(TestNamespace ns)
      throws Exception {
    String value = secret(ns, "payments", "kmsKeyId: hsm");
    ManagedSecret created = fixture.get(ns.name(), "payments");
    SecretVersion first = created.getStatus().getVersions().get(0);
    assertThat(first.getKmsKeyId()).isEqualTo("hsm");
    assertThat(envelope(created, first.getVersionId()))
        .satisfies(
            e -> {
              assertThat(e.kmsKeyId()).isEqualTo("hsm");
              assertThat(e.keyVersion()).isEqualTo(first.getKeyVersion());
              assertThat(e.wrappedDek()).as("nonce, wrapped DEK, GCM tag").hasSize(12 + 32 + 16);
            });
    assertThat(read(ns, "payments")).isEqualTo(value);

    RotationSchedule rekey =
        fixture
            .client
            .getKubernetesSerialization()
            .unmarshal(
                """
        apiVersion: keywarden.io/v1alpha1
        kind: RotationSchedule
        metadata: {name: rekey}
        spec:
          secretRef: {name: payments}
          schedule: rate(1 day)
          rotateImmediately: true
          strategy: {type: rotateEncryptionKey}
        """,
                RotationSchedule.class);
    fixture.client.resource(rekey).inNamespace(ns.name()).create();
    ManagedSecret rewrapped =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () -> fixture.get(ns.name(), "payments"),
                s ->
                    s.getStatus().getVersions().stream()
                        .allMatch(v -> v.getKeyVersion() > first.getKeyVersion()));
    SecretVersion after = rewrapped.getStatus().getVersions().get(0);
    assertThat(after.getVersionId()).isEqualTo(first.getVersionId());
    assertThat(envelope(rewrapped, after.getVersionId()).keyVersion())
        .isEqualTo(after.getKeyVersion());
    assertThat(read(ns, "payments")).as("value after re-wrapping").isEqualTo(value);

    // A new process: empty DEK cache, a new login; this time the PIN comes from a Secret.
    fixture.createSecret(fixture.namespace, "hsm-pin", "pin", PIN.getBytes(StandardCharsets.UTF_8));
    fixture.operator.stop();
    fixture.restartWith(
        nulling(
            "KEYWARDEN_KMS_PKCS11_PIN_FILE",
            Map.of("KEYWARDEN_KMS_PKCS11_PIN_SECRET_NAME", "hsm-pin")));
    try {
      assertThat(read(ns, "payments")).as("value after a restart").isEqualTo(value);
      String second = secret(ns, "payments-2", "kmsKeyId: hsm");
      assertThat(read(ns, "payments-2")).isEqualTo(second);
      assertThat(
              fixture.get(ns.name(), "payments-2").getStatus().getVersions().get(0).getKeyVersion())
          .as("new versions use the new primary")
          .isEqualTo(after.getKeyVersion());
    } finally {
      fixture.operator.stop();
      fixture.restartWith(Map.of());
    }
  }

  @Test
  void wrongPinIsAClearConditionAndACorrectedPinFileHeals(TestNamespace ns) throws Exception {
    Path wrongPin = Files.writeString(dir.resolve("wrong-pin"), "0000\n");
    fixture.operator.stop();
    fixture.restartLiveWith(Map.of("KEYWARDEN_KMS_PKCS11_PIN_FILE", wrongPin.toString()));
    try {
      fixture.apply(
          ns.name(),
          """
          apiVersion: keywarden.io/v1alpha1
          kind: ManagedSecret
          metadata: {name: locked-out}
          spec: {kmsKeyId: hsm, generate: {}}
          """);

      Condition notReady =
          fixture.awaitCondition(ns.name(), "locked-out", "Ready", "False", "KmsLoginFailed");
      assertThat(notReady.getMessage())
          .contains("PKCS#11 token '" + TOKEN_LABEL + "'")
          .contains("keywarden.kms.pkcs11.pin-file (" + wrongPin + ")")
          .contains("CKR_PIN_INCORRECT")
          .doesNotContain("0000");

      Files.writeString(wrongPin, PIN + "\n");
      fixture.awaitReady(ns.name(), "locked-out");
    } finally {
      fixture.operator.stop();
      fixture.restartWith(Map.of());
    }
  }

  /**
   * Misconfiguration reaches the ManagedSecret's condition with the setting named, not only the
   * log.
   */
  @ParameterizedTest(name = "{0}={1} -> {2}")
  @CsvSource(
      quoteCharacter = '"',
      value = {
        "KEYWARDEN_KMS_PKCS11_LIBRARY, /opt/hsm/libmissing.so, KmsLibraryNotFound, keywarden.kms.pkcs11.library: /opt/hsm/libmissing.so does not exist",
        "KEYWARDEN_KMS_PKCS11_TOKEN_LABEL, other-token, KmsTokenNotFound, no initialised token labelled 'other-token'",
        "KEYWARDEN_KMS_PKCS11_CREATE_MISSING_KEYS, false, KmsKeyNotFound, no secret key labelled 'keywarden-hsm.v<N>'",
      })
  void misconfigurationIsAConditionThatNamesTheSetting(
      String variable, String value, String reason, String message, TestNamespace ns) {
    fixture.operator.stop();
    Map<String, String> changes = new HashMap<>(Map.of(variable, value));
    if (reason.equals("KmsKeyNotFound")) {
      changes.put(
          "KEYWARDEN_KMS_KEYS_HSM_KEY_ID",
          "keywarden-hsm-" + UUID.randomUUID().toString().substring(0, 8));
      message = message.replace("keywarden-hsm", changes.get("KEYWARDEN_KMS_KEYS_HSM_KEY_ID"));
    }
    fixture.restartLiveWith(changes);
    try {
      fixture.apply(
          ns.name(),
          """
          apiVersion: keywarden.io/v1alpha1
          kind: ManagedSecret
          metadata: {name: misconfigured}
          spec: {kmsKeyId: hsm, generate: {}}
          """);

      Condition notReady =
          fixture.awaitCondition(ns.name(), "misconfigured", "Ready", "False", reason);
      assertThat(notReady.getMessage()).contains(message);
    } finally {
      fixture.operator.stop();
      fixture.restartWith(Map.of());
    }
  }

  @Test
  void localSecretSwitchedToTheHsmKeyKeepsItsValueAndNewVersionsGoToTheHsm(TestNamespace ns)
      throws Exception {
    String value = secret(ns, "migrating", "");
    String original = fixture.get(ns.name(), "migrating").getStatus().getCurrentVersionId();
    assertThat(fixture.get(ns.name(), "migrating").getStatus().getVersions().get(0).getKmsKeyId())
        .isEqualTo("default");

    switchToHsm(ns, "migrating");
    assertThat(read(ns, "migrating")).isEqualTo(value);
    String newValue = "put-" + UUID.randomUUID();
    HttpResponse<String> put =
        api.put(
            path(ns, "migrating"),
            token(ns),
            JSON.writeValueAsString(Map.of("SecretString", newValue)));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

    ManagedSecret updated = fixture.get(ns.name(), "migrating");
    String current = updated.getStatus().getCurrentVersionId();
    assertThat(current).isNotEqualTo(original);
    assertThat(envelope(updated, current).kmsKeyId()).isEqualTo("hsm");
    assertThat(read(ns, "migrating")).isEqualTo(newValue);
    assertThat(read(ns, "migrating", "?versionStage=PREVIOUS")).isEqualTo(value);
  }

  /**
   * spec.kmsKeyId moved from the local key to the token: every version's data key is re-wrapped in
   * place.
   */
  @Test
  void localSecretSwitchedToTheHsmKeyIsRewrappedInPlace(TestNamespace ns) throws Exception {
    String value = secret(ns, "moved", "");
    ManagedSecret before = fixture.get(ns.name(), "moved");
    String versionId = before.getStatus().getCurrentVersionId();
    byte[] ciphertextBefore = envelope(before, versionId).ciphertext();

    switchToHsm(ns, "moved");

    ManagedSecret moved =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () -> fixture.get(ns.name(), "moved"),
                s ->
                    s.getStatus().getVersions().stream()
                        .allMatch(v -> "hsm".equals(v.getKmsKeyId())));
    Envelope envelope = envelope(moved, versionId);
    assertThat(envelope.kmsKeyId()).isEqualTo("hsm");
    assertThat(envelope.ciphertext())
        .as("only the data key is wrapped again")
        .isEqualTo(ciphertextBefore);
    assertThat(moved.getStatus().getCurrentVersionId()).isEqualTo(versionId);
    fixture.operator.stop();
    fixture.restartWith(Map.of());
    assertThat(read(ns, "moved")).as("read through the token by a new process").isEqualTo(value);
  }

  private static void switchToHsm(TestNamespace ns, String name) {
    fixture
        .client
        .resources(ManagedSecret.class)
        .inNamespace(ns.name())
        .withName(name)
        .edit(
            s -> {
              s.getSpec().setKmsKeyId("hsm");
              return s;
            });
  }

  /** A ManagedSecret with a value the test knows; ServiceAccount app reads and writes it. */
  private static String secret(TestNamespace ns, String name, String moreSpec) {
    String value = "value-" + UUID.randomUUID();
    fixture.createImported(
        ns.name(),
        name,
        value,
        moreSpec
            + (moreSpec.isEmpty() ? "" : ", ")
            + "access: [{name: app, actions: [get, update]}]");
    return value;
  }

  private static String read(TestNamespace ns, String name) throws Exception {
    return read(ns, name, "");
  }

  /**
   * GetSecretValue as an application does it; RBAC objects reach the authorizer a moment after they
   * are written.
   */
  private static String read(TestNamespace ns, String name, String query) throws Exception {
    String token = token(ns);
    HttpResponse<String> response =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(250))
            .until(() -> api.get(path(ns, name) + query, token), r -> r.statusCode() == 200);
    return JSON.readTree(response.body()).get("SecretString").asText();
  }

  private static String path(TestNamespace ns, String name) {
    return "/v1/namespaces/" + ns.name() + "/managedsecrets/" + name + "/value";
  }

  private static String token(TestNamespace ns) {
    return fixture.serviceAccountToken(ns.name(), "app", "keywarden.io");
  }

  private static Envelope envelope(ManagedSecret secret, String versionId) {
    return Envelope.decode(
        Base64.getDecoder()
            .decode(
                fixture.ciphertext(secret, versionId).getData().get(CiphertextStore.ENVELOPE_KEY)));
  }

  private static Map<String, String> nulling(String removed, Map<String, String> added) {
    Map<String, String> changes = new HashMap<>(added);
    changes.put(removed, null);
    return changes;
  }
}
