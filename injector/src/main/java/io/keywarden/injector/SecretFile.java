package io.keywarden.injector;

import java.util.Locale;
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

  /** How the value is rendered into the file; see {@link Annotations#FORMAT_PREFIX}. */
  public enum Format {
    RAW,
    JSON,
    ENV,
    PROPERTIES;

    /** The spelling used in the annotation. */
    public String annotationValue() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Staging label of the version to write, as in AWS Secrets Manager (without its AWS prefix). */
  public enum Stage {
    CURRENT,
    PREVIOUS,
    PENDING
  }
}
