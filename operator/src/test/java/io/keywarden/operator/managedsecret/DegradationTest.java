package io.keywarden.operator.managedsecret;

import static org.assertj.core.api.Assertions.assertThat;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import io.keywarden.operator.kube.Conditions;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Degraded follows from the facts, whatever an earlier write left in the condition. */
class DegradationTest {

  private static final Degradation.Finding MISSING =
      new Degradation.Finding(ManagedSecretConditions.CIPHERTEXT_MISSING, "gone");

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("healthy", null, null, List.of(), null),
        Arguments.of(
            "a stage check fails",
            null,
            null,
            List.of(MISSING),
            ManagedSecretConditions.CIPHERTEXT_MISSING),
        Arguments.of(
            "the last rotation failed",
            2,
            ManagedSecretConditions.ROTATION_HOOK_UNREACHABLE,
            List.of(),
            ManagedSecretConditions.ROTATION_HOOK_UNREACHABLE),
        Arguments.of(
            "a stage check outranks a failed rotation",
            1,
            ManagedSecretConditions.ROTATION_TEST_FAILED,
            List.of(MISSING),
            ManagedSecretConditions.CIPHERTEXT_MISSING),
        Arguments.of(
            "a rotation succeeded after failures",
            null,
            ManagedSecretConditions.ROTATION_SUCCEEDED,
            List.of(),
            null),
        Arguments.of(
            "a stale Degraded=True with a rotation reason is not kept",
            null,
            null,
            List.of(),
            null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void derives(
      String name,
      Integer rotationFailures,
      String rotatingReason,
      List<Degradation.Finding> checks,
      String expected) {
    ManagedSecretStatus status = new ManagedSecretStatus();
    status.setRotationFailures(rotationFailures);
    if (rotatingReason != null) {
      Conditions.set(
          status.getConditions(), ManagedSecretConditions.ROTATING, false, rotatingReason, "m", 1L);
    }
    Conditions.set(
        status.getConditions(),
        ManagedSecretConditions.DEGRADED,
        true,
        ManagedSecretConditions.ROTATION_SET_FAILED,
        "left by an earlier write",
        1L);

    Optional<Degradation.Finding> finding = Degradation.derive(status, checks);

    assertThat(finding.map(Degradation.Finding::reason).orElse(null)).isEqualTo(expected);
  }
}
