package io.keywarden.operator.failure;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;

/** A version listed in the status whose ciphertext record is gone from the operator namespace. */
public final class MissingCiphertextException extends KeywardenException {

  private final String versionId;

  public MissingCiphertextException(String versionId, String namespace) {
    super(
        Failure.CIPHERTEXT_MISSING,
        ManagedSecretConditions.CIPHERTEXT_MISSING,
        "ciphertext of version " + versionId + " is missing from namespace " + namespace,
        null);
    this.versionId = versionId;
  }

  public String versionId() {
    return versionId;
  }
}
