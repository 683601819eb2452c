package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.Secret;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.operator.versions.SecretVersions;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Proves on every reconciliation that the value can be read: the ciphertext record of each staged
 * version (CURRENT, PREVIOUS) exists and its envelope decrypts under this secret's context. A
 * record altered, copied from another secret or deleted shows in Degraded within one
 * reconciliation; records are watched, so any change to them brings the secret back here. Data keys
 * come from the short-lived cache, so this costs no KMS call in steady state.
 */
@ApplicationScoped
public class StageCheck {

  private static final List<String> CHECKED =
      List.of(SecretVersion.CURRENT, SecretVersion.PREVIOUS);

  private final SecretVersions versions;
  private final CiphertextStore store;

  public StageCheck(SecretVersions versions, CiphertextStore store) {
    this.versions = versions;
    this.store = store;
  }

  /**
   * One finding per stage that cannot be read, CURRENT first; each message starts with the stage.
   */
  public List<Degradation.Finding> check(ManagedSecret secret, Set<Secret> cachedRecords) {
    List<Degradation.Finding> findings = new ArrayList<>();
    if (secret.getStatus() == null) {
      return findings;
    }
    for (String stage : CHECKED) {
      secret.getStatus().getVersions().stream()
          .filter(v -> v.getStages().contains(stage))
          .findFirst()
          .ifPresent(
              v -> check(secret, v.getVersionId(), stage, cachedRecords).ifPresent(findings::add));
    }
    return findings;
  }

  private Optional<Degradation.Finding> check(
      ManagedSecret secret, String versionId, String stage, Set<Secret> cachedRecords) {
    Optional<Envelope> envelope;
    try {
      envelope = cached(versionId, cachedRecords);
      if (envelope.isEmpty()) {
        // The watch may lag behind a record written a moment ago: ask the apiserver itself.
        envelope = store.get(secret, versionId);
      }
    } catch (CorruptEnvelopeException | IllegalArgumentException e) {
      return Optional.of(
          new Degradation.Finding(
              ManagedSecretConditions.DECRYPTION_FAILED,
              stage + " version " + versionId + ": " + e.getMessage()));
    }
    if (envelope.isEmpty()) {
      return Optional.of(
          new Degradation.Finding(
              ManagedSecretConditions.CIPHERTEXT_MISSING,
              stage
                  + " version "
                  + versionId
                  + ": its ciphertext record is missing from namespace "
                  + store.namespace()
                  + "; restore it from a backup or put a new value"));
    }
    try {
      versions.verify(secret, versionId, envelope.get());
      return Optional.empty();
    } catch (CorruptEnvelopeException e) {
      return Optional.of(
          new Degradation.Finding(
              ManagedSecretConditions.DECRYPTION_FAILED, stage + " " + e.getMessage()));
    }
  }

  private static Optional<Envelope> cached(String versionId, Set<Secret> records) {
    return records.stream()
        .filter(
            r ->
                versionId.equals(
                    r.getMetadata().getAnnotations().get(CiphertextStore.ANNOTATION_VERSION_ID)))
        .findFirst()
        .map(r -> r.getData() == null ? null : r.getData().get(CiphertextStore.ENVELOPE_KEY))
        .map(data -> Envelope.decode(Base64.getDecoder().decode(data)));
  }
}
