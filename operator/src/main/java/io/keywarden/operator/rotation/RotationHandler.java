package io.keywarden.operator.rotation;

import io.keywarden.api.v1alpha1.RotationStrategy;
import io.keywarden.operator.crypto.SecretValue;

/**
 * One rotation strategy: how the PENDING value comes about and reaches the systems that use it, in
 * AWS Secrets Manager's steps. set and test may run more than once for the same pending value
 * (after a crash), so they must be idempotent.
 */
public interface RotationHandler {

  RotationStrategy.Type type();

  /** createSecret: the new value. */
  SecretValue newValue(RotationContext context);

  /** setSecret: apply the pending value downstream. */
  void set(RotationContext context);

  /** testSecret: prove the pending value works downstream. */
  void test(RotationContext context);

  /** Undo set after a failed test, so that CURRENT keeps working downstream. */
  void rollback(RotationContext context);

  /**
   * Whether set and test reach anything outside Keywarden. Without (false), a crash between the
   * steps leaves nothing to redo downstream, so the engine persists only the reservation and then
   * the promotion, three API calls instead of six before the new value is CURRENT.
   */
  default boolean hasDownstream() {
    return true;
  }
}
