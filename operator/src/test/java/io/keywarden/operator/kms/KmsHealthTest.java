package io.keywarden.operator.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.failure.KmsException;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a key's checks make of readiness, of the Degraded gate and of change notifications. */
class KmsHealthTest {

  /** A provider whose next health check answers what the test says. */
  static final class ScriptedProvider implements KmsProvider {
    KmsException next;

    @Override
    public String type() {
      return "scripted";
    }

    @Override
    public void checkHealth() {
      if (next != null) {
        throw next;
      }
    }

    @Override
    public DataKey generateDataKey(String keyId, EncryptionContext context) {
      throw new UnsupportedOperationException();
    }

    @Override
    public byte[] decryptDataKey(
        String keyId, int keyVersion, byte[] wrappedDek, EncryptionContext context) {
      throw new UnsupportedOperationException();
    }

    @Override
    public DataKey wrapDataKey(String keyId, byte[] plaintextDek, EncryptionContext context) {
      throw new UnsupportedOperationException();
    }

    @Override
    public int primaryKeyVersion(String keyId) {
      return 1;
    }

    @Override
    public int rotateKey(String keyId) {
      return 1;
    }
  }

  private final ScriptedProvider provider = new ScriptedProvider();
  private final List<Set<String>> changes = new ArrayList<>();
  private KmsHealth health;

  @BeforeEach
  void setUp() {
    KeywardenConfig config =
        new SmallRyeConfigBuilder()
            .withMapping(KeywardenConfig.class)
            .withConverter(Duration.class, 200, new DurationConverter())
            .withSources(
                new PropertiesConfigSource(
                    Map.of(
                        "keywarden.namespace",
                        "test",
                        "keywarden.kms.keys.default.provider",
                        "scripted"),
                    "test",
                    100))
            .build()
            .getConfigMapping(KeywardenConfig.class);
    health = new KmsHealth(new KmsKeys(config, List.of(provider)), config);
    health.onChange(changes::add);
  }

  @Test
  void unreachableFromTheStartIsNeverReachableAndGatesTheSecrets() {
    provider.next = new KmsException("KmsUnavailable", "connection refused");
    health.checkAll();

    KmsHealth.KeyHealth key = health.byProvider().get("scripted").get(0);
    assertThat(key.reachable()).isFalse();
    assertThat(key.everReachable()).isFalse();
    assertThatThrownBy(() -> health.requireHealthy(List.of("default")))
        .isInstanceOf(KmsException.class)
        .hasMessageContaining("KMS key 'default' (scripted)")
        .hasMessageContaining("connection refused")
        .extracting(e -> ((KmsException) e).reason())
        .isEqualTo("KmsUnavailable");
    assertThat(changes).containsExactly(Set.of("default"));
  }

  @Test
  void anOutageAfterSuccessKeepsEverReachableAndRecoveryNotifiesAgain() {
    health.checkAll();
    provider.next = new KmsException("KmsUnavailable", "reset");
    health.checkAll();
    health.checkAll();

    KmsHealth.KeyHealth key = health.byProvider().get("scripted").get(0);
    assertThat(key.healthy()).isFalse();
    assertThat(key.everReachable()).isTrue();

    provider.next = null;
    health.checkAll();
    assertThatCode(() -> health.requireHealthy(List.of("default"))).doesNotThrowAnyException();
    assertThat(changes).as("one notification per change, none for a repeated outcome").hasSize(3);
  }

  @Test
  void aRefusedKeyIsReachableButStillDegradesItsSecrets() {
    provider.next = new KmsException("KmsKeyDisabled", "key is Disabled");
    health.checkAll();

    KmsHealth.KeyHealth key = health.byProvider().get("scripted").get(0);
    assertThat(key.reachable()).isTrue();
    assertThat(key.everReachable()).isTrue();
    assertThatThrownBy(() -> health.requireHealthy(List.of("default")))
        .hasMessageContaining("key is Disabled");
  }

  @Test
  void throttledCheckKeepsThePreviousOutcome() {
    health.checkAll();
    provider.next = new KmsException("KmsThrottled", "slow down");
    health.checkAll();

    assertThat(health.byProvider().get("scripted").get(0).healthy()).isTrue();
    assertThat(changes).hasSize(1);
  }

  @Test
  void keysNotCheckedYetOrUnknownDoNotGate() {
    assertThatCode(() -> health.requireHealthy(List.of("default", "no-such-alias")))
        .doesNotThrowAnyException();
  }
}
