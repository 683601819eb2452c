package io.keywarden.operator.versions;

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

  /**
   * Removes the versions from the status and returns their ids, for the caller to delete their
   * ciphertext.
   */
  static List<String> prune(ManagedSecretStatus status, int keep) {
    List<SecretVersion> versions = status.getVersions();
    List<String> removed = new ArrayList<>();
    // versions are kept newest first
    for (int i = versions.size() - 1; i >= 0 && versions.size() > keep; i--) {
      SecretVersion version = versions.get(i);
      if (version.getStages().isEmpty()) {
        versions.remove(i);
        removed.add(version.getVersionId());
      }
    }
    return removed;
  }
}
