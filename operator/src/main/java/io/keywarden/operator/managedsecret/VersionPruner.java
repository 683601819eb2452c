package io.keywarden.operator.managedsecret;

import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import io.keywarden.api.v1alpha1.SecretVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * Drops deprecated versions (no staging label) beyond spec.versionsToKeep, oldest first. Labelled
 * versions are never pruned, so CURRENT, PREVIOUS and PENDING always survive.
 */
final class VersionPruner {

  private VersionPruner() {}

  static List<String> prune(ManagedSecret secret, ManagedSecretStatus status, CiphertextStore store) {
    int keep = secret.getSpec().getVersionsToKeep() == null ? 5 : secret.getSpec().getVersionsToKeep();
    List<SecretVersion> versions = status.getVersions();
    List<String> removed = new ArrayList<>();
    // versions are kept newest first
    for (int i = versions.size() - 1; i >= 0 && versions.size() > keep; i--) {
      SecretVersion version = versions.get(i);
      if (version.getStages().isEmpty()) {
        store.delete(secret.getMetadata().getUid(), version.getVersionId());
        versions.remove(i);
        removed.add(version.getVersionId());
      }
    }
    return removed;
  }
}
