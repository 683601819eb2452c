package io.keywarden.operator.kms.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.failure.KmsException;
import io.keywarden.operator.it.SoftHsm;
import io.keywarden.operator.kms.DataKey;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pkcs11 provider against a real SoftHSM2 token made for this test run. Surefire points
 * SOFTHSM2_CONF at target/softhsm2/softhsm2.conf; the tokens are created there before the library
 * is first loaded in this JVM (SoftHSM2 lists tokens once per process).
 */
class Pkcs11KmsProviderTest {

  private static final String TOKEN = "keywarden-unit";
  private static final String PIN = "unit-1234";

  /** A token nobody logs in to with the right PIN before the wrong-PIN test does. */
  private static final String LOGIN_TOKEN = "keywarden-login";

  private static final String LOGIN_PIN = "login-1234";
  private static final EncryptionContext CONTEXT =
      new EncryptionContext("team-a", "db", "uid-1", "version-1");

  @TempDir static Path dir;
  private static long slot;
  private static Path pinFile;
  private static Pkcs11KmsProvider kms;

  @BeforeAll
  static void tokens() throws IOException {
    String conf = System.getenv("SOFTHSM2_CONF");
    assertThat(conf).as("SOFTHSM2_CONF (set by the operator pom for Surefire)").isNotBlank();
    SoftHsm hsm = SoftHsm.at(Path.of(conf));
    slot = hsm.initToken(TOKEN, PIN);
    hsm.initToken(LOGIN_TOKEN, LOGIN_PIN);
    pinFile = Files.writeString(dir.resolve("pin"), PIN + "\n");
    kms = provider(Map.of());
  }

  @Test
  void wrapsInsideTheTokenUnderAKeyThatCannotLeaveIt() {
    DataKey dek = kms.generateDataKey("roundtrip", CONTEXT);

    assertThat(dek.keyVersion()).isEqualTo(1);
    assertThat(dek.wrapped()).hasSize(12 + 32 + 16);
    assertThat(kms.decryptDataKey("roundtrip", 1, dek.wrapped(), CONTEXT))
        .isEqualTo(dek.plaintext());
    assertThat(dek.toString()).doesNotContain(java.util.HexFormat.of().formatHex(dek.plaintext()));
    SecretKey master =
        new TokenConnector(config(Map.of()), new PinSource(null, config(Map.of())))
            .connect()
            .key(new KeyLabel("roundtrip", 1));
    assertThat(master.getEncoded()).as("key material is not readable").isNull();
    assertThat(master.toString()).contains("token object", "sensitive", "unextractable");
  }

  @Test
  void aWrappedKeyOpensOnlyInItsOwnContext() {
    DataKey dek = kms.generateDataKey("context", CONTEXT);
    byte[] altered = dek.wrapped().clone();
    altered[altered.length - 1] ^= 1;

    for (EncryptionContext other :
        List.of(
            new EncryptionContext("team-b", "db", "uid-1", "version-1"),
            new EncryptionContext("team-a", "db", "uid-2", "version-1"),
            new EncryptionContext("team-a", "db", "uid-1", "version-2"))) {
      assertThatThrownBy(() -> kms.decryptDataKey("context", 1, dek.wrapped(), other))
          .isInstanceOf(CorruptEnvelopeException.class)
          .hasMessageContaining("authentication tag mismatch");
    }
    assertThatThrownBy(() -> kms.decryptDataKey("context", 1, altered, CONTEXT))
        .isInstanceOf(CorruptEnvelopeException.class);
    assertThatThrownBy(() -> kms.decryptDataKey("context", 1, new byte[5], CONTEXT))
        .isInstanceOf(CorruptEnvelopeException.class);
  }

  @Test
  void rotationAddsAPrimaryAndRetirementDestroysOnlyUnusedOldVersions() {
    DataKey v1 = kms.generateDataKey("rotated", CONTEXT);
    assertThat(kms.rotateKey("rotated")).isEqualTo(2);
    DataKey v2 = kms.generateDataKey("rotated", CONTEXT);
    assertThat(kms.rotateKey("rotated")).isEqualTo(3);
    DataKey rewrapped = kms.wrapDataKey("rotated", v1.plaintext(), CONTEXT);

    assertThat(kms.primaryKeyVersion("rotated")).isEqualTo(3);
    assertThat(v2.keyVersion()).isEqualTo(2);
    assertThat(rewrapped.keyVersion()).isEqualTo(3);
    assertThat(kms.decryptDataKey("rotated", 1, v1.wrapped(), CONTEXT)).isEqualTo(v1.plaintext());
    assertThat(kms.decryptDataKey("rotated", 3, rewrapped.wrapped(), CONTEXT))
        .isEqualTo(v1.plaintext());

    kms.retireUnusedVersions("rotated", Set.of(2));

    assertThatThrownBy(() -> kms.decryptDataKey("rotated", 1, v1.wrapped(), CONTEXT))
        .isInstanceOf(KmsException.class)
        .hasMessageContaining("no secret key labelled 'rotated.v1'")
        .satisfies(e -> assertThat(((KmsException) e).reason()).isEqualTo("KmsKeyNotFound"));
    assertThat(kms.decryptDataKey("rotated", 2, v2.wrapped(), CONTEXT)).isEqualTo(v2.plaintext());
    kms.retireUnusedVersions("rotated", Set.of());
    assertThat(kms.primaryKeyVersion("rotated")).as("the primary is never retired").isEqualTo(3);
    assertThat(kms.decryptDataKey("rotated", 3, rewrapped.wrapped(), CONTEXT))
        .isEqualTo(v1.plaintext());
  }

  @Test
  void anotherInstanceSeesVersionsItDidNotCreate() {
    Pkcs11KmsProvider other =
        provider(
            Map.of(
                "keywarden.kms.pkcs11.slot",
                Long.toString(slot),
                "keywarden.kms.pkcs11.token-label",
                ""));
    DataKey dek = kms.generateDataKey("shared", CONTEXT);
    other.primaryKeyVersion("shared");
    kms.rotateKey("shared");
    DataKey newer = kms.generateDataKey("shared", CONTEXT);

    assertThat(other.decryptDataKey("shared", 2, newer.wrapped(), CONTEXT))
        .isEqualTo(newer.plaintext());
    assertThat(other.decryptDataKey("shared", 1, dek.wrapped(), CONTEXT))
        .isEqualTo(dek.plaintext());
  }

  @Test
  void wrongPinIsRefusedOnceNamesTheSettingAndTheCorrectedFileIsPickedUp() throws IOException {
    Path loginPin = Files.writeString(dir.resolve("login-pin"), "not-the-pin");
    Pkcs11KmsProvider locked =
        provider(
            Map.of(
                "keywarden.kms.pkcs11.token-label",
                LOGIN_TOKEN,
                "keywarden.kms.pkcs11.pin-file",
                loginPin.toString()));

    assertThatThrownBy(() -> locked.generateDataKey("login", CONTEXT))
        .isInstanceOf(KmsException.class)
        .satisfies(e -> assertThat(((KmsException) e).reason()).isEqualTo("KmsLoginFailed"))
        .hasMessageContaining("keywarden.kms.pkcs11.pin-file (" + loginPin + ")")
        .hasMessageContaining("CKR_PIN_INCORRECT")
        .hasMessageNotContaining("not-the-pin");
    assertThatThrownBy(() -> locked.generateDataKey("login", CONTEXT))
        .isInstanceOf(KmsException.class)
        .hasMessageContaining("not tried again until keywarden.kms.pkcs11.pin-file");

    Files.writeString(loginPin, LOGIN_PIN + "\n");
    DataKey dek = locked.generateDataKey("login", CONTEXT);
    assertThat(locked.decryptDataKey("login", 1, dek.wrapped(), CONTEXT))
        .isEqualTo(dek.plaintext());
  }

  @Test
  void misconfigurationNamesTheSetting() {
    assertThatThrownBy(
            () ->
                provider(Map.of("keywarden.kms.pkcs11.library", "/nowhere/libhsm.so"))
                    .checkHealth())
        .satisfies(e -> assertThat(((KmsException) e).reason()).isEqualTo("KmsLibraryNotFound"))
        .hasMessageContaining("keywarden.kms.pkcs11.library: /nowhere/libhsm.so does not exist");
    assertThatThrownBy(
            () ->
                provider(Map.of("keywarden.kms.pkcs11.token-label", "no-such-token")).checkHealth())
        .satisfies(e -> assertThat(((KmsException) e).reason()).isEqualTo("KmsTokenNotFound"))
        .hasMessageContaining("no initialised token labelled 'no-such-token'")
        .hasMessageContaining("'" + TOKEN + "'");
    assertThatThrownBy(
            () -> provider(Map.of("keywarden.kms.pkcs11.pin-secret-name", "hsm-pin")).checkHealth())
        .satisfies(e -> assertThat(((KmsException) e).reason()).isEqualTo("KmsMisconfigured"))
        .hasMessageContaining(
            "exactly one of keywarden.kms.pkcs11.pin-file and keywarden.kms.pkcs11.pin-secret-name");
    assertThatThrownBy(
            () ->
                provider(Map.of("keywarden.kms.pkcs11.create-missing-keys", "false"))
                    .generateDataKey("absent", CONTEXT))
        .satisfies(e -> assertThat(((KmsException) e).reason()).isEqualTo("KmsKeyNotFound"))
        .hasMessageContaining("no secret key labelled 'absent.v<N>'")
        .hasMessageContaining("create-missing-keys");
    assertThatThrownBy(() -> kms.decryptDataKey("has space", 1, new byte[60], CONTEXT))
        .satisfies(e -> assertThat(((KmsException) e).reason()).isEqualTo("InvalidKeyId"));
  }

  @Test
  void manyThreadsWrapAndUnwrapAtOnce() throws Exception {
    Pkcs11KmsProvider bounded =
        provider(Map.of("keywarden.kms.pkcs11.max-concurrent-operations", "3"));
    bounded.primaryKeyVersion("concurrent");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int thread = t;
        results.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 100; i++) {
                    EncryptionContext context =
                        new EncryptionContext("ns", "s" + thread, "uid", "v" + i);
                    DataKey dek = bounded.generateDataKey("concurrent", context);
                    assertThat(
                            bounded.decryptDataKey(
                                "concurrent", dek.keyVersion(), dek.wrapped(), context))
                        .isEqualTo(dek.plaintext());
                  }
                  return thread;
                }));
      }
      for (Future<Integer> result : results) {
        result.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static Pkcs11KmsProvider provider(Map<String, String> overrides) {
    KeywardenConfig config = config(overrides);
    return new Pkcs11KmsProvider(new TokenConnector(config, new PinSource(null, config)), config);
  }

  /**
   * The operator's real configuration mapping, fed from properties; an empty value removes a
   * default.
   */
  private static KeywardenConfig config(Map<String, String> overrides) {
    Map<String, String> properties =
        new HashMap<>(
            Map.of(
                "keywarden.namespace",
                "keywarden-test",
                "keywarden.kms.pkcs11.library",
                SoftHsm.LIBRARY,
                "keywarden.kms.pkcs11.token-label",
                TOKEN,
                "keywarden.kms.pkcs11.pin-file",
                pinFile.toString()));
    properties.putAll(overrides);
    properties.values().removeIf(String::isEmpty);
    return new SmallRyeConfigBuilder()
        .withMapping(KeywardenConfig.class)
        .withConverter(
            java.time.Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter())
        .withSources(new PropertiesConfigSource(properties, "test", 500))
        .build()
        .getConfigMapping(KeywardenConfig.class);
  }
}
