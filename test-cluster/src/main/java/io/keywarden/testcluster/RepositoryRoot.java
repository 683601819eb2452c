package io.keywarden.testcluster;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the checkout, whose test-cluster/ scripts and crds/ YAML the tests use. */
public final class RepositoryRoot {

  private RepositoryRoot() {}

  public static Path find() {
    String configured = System.getProperty("keywarden.root");
    if (configured != null && Files.isExecutable(Path.of(configured, "test-cluster", "up"))) {
      return Path.of(configured).toAbsolutePath();
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isExecutable(dir.resolve("test-cluster/up"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "cannot find the Keywarden checkout (test-cluster/up) above "
            + Path.of("").toAbsolutePath()
            + "; set -Dkeywarden.root");
  }
}
