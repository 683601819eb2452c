package io.keywarden.operator.versions;

import static org.assertj.core.api.Assertions.assertThat;

import io.keywarden.api.v1alpha1.ManagedSecretStatus;
import io.keywarden.api.v1alpha1.SecretVersion;
import java.util.List;
import org.junit.jupiter.api.Test;

class VersionPrunerTest {

  @Test
  void prunesOldestDeprecatedVersionsBeyondTheLimit() {
    ManagedSecretStatus status =
        status("v6:PENDING", "v5:CURRENT", "v4:PREVIOUS", "v3", "v2", "v1");

    assertThat(VersionPruner.prune(status, 4)).containsExactly("v1", "v2");
    assertThat(status.getVersions())
        .extracting(SecretVersion::getVersionId)
        .containsExactly("v6", "v5", "v4", "v3");
  }

  @Test
  void neverPrunesLabelledVersionsEvenAboveTheLimit() {
    ManagedSecretStatus status = status("v3:PENDING", "v2:CURRENT", "v1:PREVIOUS");

    assertThat(VersionPruner.prune(status, 2)).isEmpty();
    assertThat(status.getVersions()).hasSize(3);
  }

  @Test
  void keepsEverythingWithinTheLimit() {
    ManagedSecretStatus status = status("v2:CURRENT", "v1");
    assertThat(VersionPruner.prune(status, 2)).isEmpty();
  }

  private static ManagedSecretStatus status(String... versions) {
    ManagedSecretStatus status = new ManagedSecretStatus();
    for (String v : versions) {
      String[] parts = v.split(":");
      status
          .getVersions()
          .add(
              new SecretVersion(
                  parts[0],
                  parts.length > 1 ? List.of(parts[1]) : List.of(),
                  "2026-01-01T00:00:00Z",
                  "default",
                  1));
    }
    return status;
  }
}
