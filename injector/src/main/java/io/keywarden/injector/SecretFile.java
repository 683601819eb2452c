package io.keywarden.injector;

import io.keywarden.contract.Format;
import io.keywarden.contract.Stage;
import java.util.Objects;
import java.util.Optional;

/** One file the agent writes: which ManagedSecret, which part of it, and how it is rendered. */
public record SecretFile(
    String fileName, String secretName, Optional<String> key, Format format, Stage stage) {

  public SecretFile {
    Objects.requireNonNull(fileName, "fileName");
    Objects.requireNonNull(secretName, "secretName");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(stage, "stage");
  }
}
