package io.keywarden.operator.failure;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;

/** A stored envelope that cannot be read or does not authenticate: altered, truncated or moved. */
public final class CorruptEnvelopeException extends KeywardenException {
  public CorruptEnvelopeException(String message) {
    this(message, null);
  }

  public CorruptEnvelopeException(String message, Throwable cause) {
    super(Failure.DECRYPTION_FAILED, ManagedSecretConditions.DECRYPTION_FAILED, message, cause);
  }
}
