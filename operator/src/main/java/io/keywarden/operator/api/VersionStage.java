package io.keywarden.operator.api;

import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.failure.RequestException;
import java.util.Arrays;
import java.util.Optional;

/**
 * A staging label as both protocols spell it: Keywarden's REST paths and the status say {@code
 * CURRENT}, AWS Secrets Manager clients say {@code AWSCURRENT}. Each protocol reads and writes its
 * own spelling; the status only ever holds Keywarden's.
 */
public enum VersionStage {
  CURRENT(SecretVersion.CURRENT, "AWSCURRENT"),
  PREVIOUS(SecretVersion.PREVIOUS, "AWSPREVIOUS"),
  PENDING(SecretVersion.PENDING, "AWSPENDING");

  private final String keywarden;
  private final String aws;

  VersionStage(String keywarden, String aws) {
    this.keywarden = keywarden;
    this.aws = aws;
  }

  /** As the status and the REST paths write it. */
  public String keywarden() {
    return keywarden;
  }

  /** As AWS Secrets Manager writes it. */
  public String aws() {
    return aws;
  }

  /** A label from the status; empty for one Keywarden does not know (never written today). */
  public static Optional<VersionStage> ofStatus(String label) {
    return Arrays.stream(values()).filter(s -> s.keywarden.equals(label)).findFirst();
  }

  /** A REST parameter: CURRENT, PREVIOUS or PENDING. */
  public static VersionStage parseRest(String field, String label) {
    return ofStatus(label)
        .orElseThrow(
            () ->
                RequestException.invalidParameter(
                    field + " must be one of CURRENT, PREVIOUS, PENDING"));
  }

  /**
   * An AWS parameter: AWSCURRENT, AWSPREVIOUS or AWSPENDING; Keywarden's own spelling is taken too,
   * since a label can only mean one thing.
   */
  public static VersionStage parseAws(String field, String label) {
    return Arrays.stream(values())
        .filter(s -> s.aws.equals(label) || s.keywarden.equals(label))
        .findFirst()
        .orElseThrow(
            () ->
                RequestException.invalidParameter(
                    field
                        + " must be one of AWSCURRENT, AWSPREVIOUS, AWSPENDING (Keywarden knows no"
                        + " other staging labels)"));
  }
}
