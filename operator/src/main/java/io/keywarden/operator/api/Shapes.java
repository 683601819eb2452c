package io.keywarden.operator.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The answers of the operations, in AWS Secrets Manager's shapes (botocore's service model,
 * secretsmanager 2017-10-17), as values. {@link Rendering} writes them for each protocol: member
 * names in AWS's spelling, dates as ISO-8601 strings (REST) or epoch seconds (awsJson1.1), staging
 * labels as CURRENT or AWSCURRENT, binary as base64. Null members are left out. {@code Namespace}
 * and the other members AWS does not model are Keywarden's; AWS clients ignore them.
 */
public final class Shapes {

  private Shapes() {}

  /** GetSecretValue, and one entry of BatchGetSecretValue's SecretValues. */
  public record SecretValueEntry(
      @JsonProperty("ARN") String arn,
      String name,
      String namespace,
      String versionId,
      String secretString,
      byte[] secretBinary,
      List<VersionStage> versionStages,
      Instant createdDate) {}

  public record Tag(String key, String value) {}

  /**
   * DescribeSecret, and one entry of ListSecrets' SecretList: the same members but for the version
   * map, which AWS calls VersionIdsToStages in the one and SecretVersionsToStages in the other.
   */
  public record SecretDescription(
      @JsonProperty("ARN") String arn,
      String name,
      String namespace,
      String description,
      String kmsKeyId,
      Boolean rotationEnabled,
      Instant createdDate,
      Instant lastChangedDate,
      Instant lastRotatedDate,
      Instant nextRotationDate,
      Instant lastAccessedDate,
      List<Tag> tags,
      Map<String, List<VersionStage>> versionIdsToStages,
      Map<String, List<VersionStage>> secretVersionsToStages) {

    /** The ListSecrets spelling of the version map. */
    public SecretDescription asListEntry() {
      return new SecretDescription(
          arn,
          name,
          namespace,
          description,
          kmsKeyId,
          rotationEnabled,
          createdDate,
          lastChangedDate,
          lastRotatedDate,
          nextRotationDate,
          lastAccessedDate,
          tags,
          null,
          versionIdsToStages);
    }
  }

  public record ListSecretsResponse(List<SecretDescription> secretList, String nextToken) {}

  /** One version of ListSecretVersionIds; KeyVersion is Keywarden's. */
  public record VersionEntry(
      String versionId,
      List<VersionStage> versionStages,
      Instant createdDate,
      List<String> kmsKeyIds,
      Integer keyVersion) {}

  public record ListSecretVersionIdsResponse(
      @JsonProperty("ARN") String arn,
      String name,
      String namespace,
      List<VersionEntry> versions,
      String nextToken) {}

  public record PutSecretValueResponse(
      @JsonProperty("ARN") String arn,
      String name,
      String namespace,
      String versionId,
      List<VersionStage> versionStages) {}

  /**
   * RotateSecret. VersionId is absent: the rotation machinery picks the new version's id when it
   * runs; RotationRequested (Keywarden's) says when it was asked for.
   */
  public record RotateSecretResponse(
      @JsonProperty("ARN") String arn,
      String name,
      String namespace,
      String versionId,
      Instant rotationRequested) {}

  /**
   * DeleteSecret. DeletionDate is when the kept versions are purged (the deletion itself, with
   * ForceDeleteWithoutRecovery); RecoveryWindowInDays (Keywarden's) is the window applied.
   */
  public record DeleteSecretResponse(
      @JsonProperty("ARN") String arn,
      String name,
      String namespace,
      Instant deletionDate,
      Integer recoveryWindowInDays) {}

  /** RestoreSecret. The ARN is the restored object's, which has a new uid and so a new suffix. */
  public record RestoreSecretResponse(
      @JsonProperty("ARN") String arn, String name, String namespace) {}

  public record GetRandomPasswordResponse(String randomPassword) {}

  /** One failed secret of BatchGetSecretValue (AWS's APIErrorType). */
  public record BatchError(String secretId, String errorCode, String message) {}

  public record BatchGetSecretValueResponse(
      List<SecretValueEntry> secretValues, List<BatchError> errors, String nextToken) {}
}
