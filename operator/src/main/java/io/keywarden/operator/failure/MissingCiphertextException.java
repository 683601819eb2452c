package io.keywarden.operator.failure;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;

/** A version listed in the status whose ciphertext record is gone from the operator namespace. */
public final class MissingCiphertextException extends KeywardenException {

  private final String versionId;

  /** {@code where}: "namespace keywarden-system", or "the operator namespace". */
  public MissingCiphertextException(String versionId, String where) {
    super(
        Failure.CIPHERTEXT_MISSING,
        ManagedSecretConditions.CIPHERTEXT_MISSING,
        "ciphertext of version " + versionId + " is missing from " + where,
        null);
    this.versionId = versionId;
  }

  public String versionId() {
    return versionId;
  }
}
