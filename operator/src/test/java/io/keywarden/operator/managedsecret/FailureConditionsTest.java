package io.keywarden.operator.managedsecret;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.failure.ConflictException;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.failure.InvalidSpecException;
import io.keywarden.operator.failure.KmsException;
import io.keywarden.operator.failure.MissingCiphertextException;
import io.keywarden.operator.failure.RequestException;
import io.keywarden.operator.failure.RotationFailedException;
import io.keywarden.operator.failure.UnknownKmsKeyException;
import io.keywarden.operator.managedsecret.FailureConditions.Effect;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The one mapping from a failed reconciliation to conditions. */
class FailureConditionsTest {

  static Stream<Arguments> failures() {
    return Stream.of(
        Arguments.of(
            "invalid spec",
            new InvalidSpecException("spec.fromSecret.name", "does not exist"),
            Effect.NOT_READY,
            ManagedSecretConditions.INVALID_SPEC),
        Arguments.of(
            "missing source key",
            new InvalidSpecException(
                "spec.fromSecret.key", "missing", ManagedSecretConditions.SOURCE_KEY_NOT_FOUND),
            Effect.NOT_READY,
            ManagedSecretConditions.SOURCE_KEY_NOT_FOUND),
        Arguments.of(
            "unknown KMS key",
            new UnknownKmsKeyException("hsm", Set.of("default")),
            Effect.NOT_READY,
            ManagedSecretConditions.UNKNOWN_KMS_KEY),
        Arguments.of(
            "KMS throttled",
            new KmsException(ManagedSecretConditions.KMS_THROTTLED, "x"),
            Effect.DEGRADED,
            ManagedSecretConditions.KMS_THROTTLED),
        Arguments.of(
            "altered envelope",
            new CorruptEnvelopeException("x"),
            Effect.DEGRADED,
            ManagedSecretConditions.DECRYPTION_FAILED),
        Arguments.of(
            "missing record",
            new MissingCiphertextException("v1", "keywarden-system"),
            Effect.DEGRADED,
            ManagedSecretConditions.CIPHERTEXT_MISSING),
        Arguments.of(
            "rotation failed",
            new RotationFailedException(ManagedSecretConditions.ROTATION_TEST_FAILED, "x"),
            Effect.DEGRADED,
            ManagedSecretConditions.ROTATION_TEST_FAILED),
        Arguments.of(
            "lost a write race",
            new ConflictException("x"),
            Effect.RETRY,
            ManagedSecretConditions.RECONCILE_ERROR),
        Arguments.of(
            "Kubernetes 409",
            new KubernetesClientException("conflict", 409, null),
            Effect.RETRY,
            ManagedSecretConditions.RECONCILE_ERROR),
        Arguments.of(
            "apiserver down",
            new KubernetesClientException("down", 503, null),
            Effect.RETRY,
            ManagedSecretConditions.RECONCILE_ERROR),
        Arguments.of(
            "Kubernetes 403",
            new KubernetesClientException("forbidden", 403, null),
            Effect.DEGRADED,
            ManagedSecretConditions.RECONCILE_ERROR),
        Arguments.of(
            "a bug",
            new IllegalStateException("boom"),
            Effect.DEGRADED,
            ManagedSecretConditions.RECONCILE_ERROR),
        Arguments.of(
            "a request failure cannot name a condition",
            RequestException.notFound("x"),
            Effect.DEGRADED,
            ManagedSecretConditions.RECONCILE_ERROR),
        Arguments.of(
            "wrapped by JOSDK",
            new RuntimeException(new KmsException(ManagedSecretConditions.KMS_KEY_DISABLED, "x")),
            Effect.DEGRADED,
            ManagedSecretConditions.KMS_KEY_DISABLED));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("failures")
  void mapsEachFailure(String name, RuntimeException thrown, Effect effect, String reason) {
    FailureConditions.Outcome outcome = FailureConditions.of(thrown);

    assertThat(outcome.effect()).isEqualTo(effect);
    assertThat(outcome.reason()).isEqualTo(reason);
  }

  @ParameterizedTest
  @EnumSource(io.keywarden.operator.failure.Failure.class)
  void everyFailureHasAnEffect(io.keywarden.operator.failure.Failure failure) {
    assertThat(FailureConditions.effect(failure)).isNotNull();
  }
}
