package io.keywarden.operator.versions;

import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import io.keywarden.api.v1alpha1.SecretVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * Moves AWS staging labels between versions. Each label is on at most one version; a version that
 * loses its last label is deprecated (and later pruned).
 */
final class Stages {

  private Stages() {}

  /**
   * Makes {@code versionId} CURRENT; the old CURRENT becomes PREVIOUS, the old PREVIOUS loses its
   * label.
   */
  static void promote(ManagedSecretStatus status, String versionId) {
    String oldCurrent = status.getCurrentVersionId();
    if (versionId.equals(oldCurrent)) {
      return;
    }
    for (SecretVersion version : status.getVersions()) {
      List<String> stages = new ArrayList<>(version.getStages());
      stages.remove(SecretVersion.PREVIOUS);
      stages.remove(SecretVersion.CURRENT);
      if (version.getVersionId().equals(versionId)) {
        stages.remove(SecretVersion.PENDING);
        stages.add(0, SecretVersion.CURRENT);
      } else if (version.getVersionId().equals(oldCurrent)) {
        stages.add(SecretVersion.PREVIOUS);
      }
      version.setStages(stages);
    }
    status.setCurrentVersionId(versionId);
    status.setPreviousVersionId(oldCurrent);
    if (versionId.equals(status.getPendingVersionId())) {
      status.setPendingVersionId(null);
    }
  }
}
