package io.keywarden.operator.kms.aws;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.failure.KmsException;
import java.io.IOException;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * The one mapping from AWS SDK failures to condition reasons. The SDK has already retried what it
 * retries (standard mode: throttling, 5xx, network errors) when an exception arrives here. Error
 * codes follow the AWS KMS API reference ("Errors" of GenerateDataKey, Decrypt, Encrypt).
 */
public final class AwsErrors {

  public static final String THROTTLED = ManagedSecretConditions.KMS_THROTTLED;
  public static final String UNAVAILABLE = ManagedSecretConditions.KMS_UNAVAILABLE;
  public static final String KEY_DISABLED = ManagedSecretConditions.KMS_KEY_DISABLED;
  public static final String KEY_NOT_FOUND = ManagedSecretConditions.KMS_KEY_NOT_FOUND;
  public static final String KEY_UNUSABLE = ManagedSecretConditions.KMS_KEY_UNUSABLE;
  public static final String ACCESS_DENIED = ManagedSecretConditions.KMS_ACCESS_DENIED;
  public static final String AUTHENTICATION_FAILED =
      ManagedSecretConditions.KMS_AUTHENTICATION_FAILED;
  public static final String MISCONFIGURED = ManagedSecretConditions.KMS_MISCONFIGURED;
  public static final String ROTATION_LIMIT = ManagedSecretConditions.KMS_ROTATION_LIMIT_REACHED;

  private static final Set<String> THROTTLING =
      Set.of("ThrottlingException", "LimitExceededException", "TooManyRequestsException");
  private static final Set<String> SERVER_SIDE =
      Set.of(
          "KMSInternalException",
          "DependencyTimeoutException",
          "KeyUnavailableException",
          "ServiceUnavailableException",
          "InternalFailure");
  private static final Set<String> AUTHENTICATION =
      Set.of(
          "UnrecognizedClientException",
          "InvalidClientTokenId",
          "InvalidSignatureException",
          "IncompleteSignature",
          "ExpiredTokenException",
          "ExpiredToken",
          "MissingAuthenticationToken");

  private AwsErrors() {}

  /**
   * @param operation the KMS action, as IAM names it without the prefix (GenerateDataKey,
   *     Decrypt...)
   * @param key how to name the key to the user: its id and the configuration key that set it
   */
  public static RuntimeException map(String operation, String key, SdkException e) {
    if (e instanceof AwsServiceException service) {
      return mapService(operation, key, service);
    }
    if (e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException) {
      return new KmsException(
          UNAVAILABLE,
          "AWS KMS "
              + operation
              + " on "
              + key
              + " timed out ("
              + e.getMessage()
              + "); see keywarden.kms.aws.api-call-timeout",
          e);
    }
    String message = String.valueOf(e.getMessage());
    if (message.contains("Unable to load credentials")) {
      return new KmsException(
          MISCONFIGURED,
          "no AWS credentials for "
              + operation
              + " on "
              + key
              + ": the default chain"
              + " (environment, web identity token of IRSA, EKS Pod Identity, profile, instance role) found none",
          e);
    }
    if (message.contains("Unable to load region")) {
      return new KmsException(
          MISCONFIGURED,
          "no AWS region for " + key + ": set keywarden.kms.aws.region or AWS_REGION",
          e);
    }
    if (e instanceof SdkClientException && hasCause(e, IOException.class)) {
      return new KmsException(
          UNAVAILABLE,
          "AWS KMS is unreachable for " + operation + " on " + key + ": " + rootMessage(e),
          e);
    }
    return new KmsException(
        UNAVAILABLE, "AWS KMS " + operation + " on " + key + " failed: " + message, e);
  }

  private static RuntimeException mapService(String operation, String key, AwsServiceException e) {
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    String detail =
        (code == null ? "" : code + ": ")
            + (e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage());
    if (code == null) {
      return new KmsException(
          UNAVAILABLE,
          "AWS KMS " + operation + " on " + key + " failed with HTTP " + e.statusCode(),
          e);
    }
    if ("LimitExceededException".equals(code) && "RotateKeyOnDemand".equals(operation)) {
      return new KmsException(
          ROTATION_LIMIT,
          "AWS KMS refuses another on-demand rotation of "
              + key
              + " ("
              + detail
              + "); rely on the key's automatic rotation (EnableKeyRotation) instead",
          e);
    }
    if (THROTTLING.contains(code) || e.isThrottlingException()) {
      return new KmsException(
          THROTTLED,
          "AWS KMS throttled "
              + operation
              + " on "
              + key
              + " after the SDK's retries ("
              + detail
              + "); will retry with backoff",
          e);
    }
    if (SERVER_SIDE.contains(code) || e.statusCode() >= 500) {
      return new KmsException(
          UNAVAILABLE,
          "AWS KMS could not serve " + operation + " on " + key + " (" + detail + ")",
          e);
    }
    return switch (code) {
      case "DisabledException" ->
          new KmsException(
              KEY_DISABLED,
              "AWS KMS key "
                  + key
                  + " is disabled ("
                  + detail
                  + "); enable it, or move the secret to another key",
              e);
      case "KMSInvalidStateException" ->
          new KmsException(
              KEY_DISABLED,
              "AWS KMS key "
                  + key
                  + " cannot be used in its current state, e.g. pending deletion ("
                  + detail
                  + ")",
              e);
      case "NotFoundException" ->
          new KmsException(
              KEY_NOT_FOUND,
              "AWS KMS key "
                  + key
                  + " does not exist in this"
                  + " account and region ("
                  + detail
                  + "); check the key id, alias or ARN and keywarden.kms.aws.region",
              e);
      case "AccessDeniedException" ->
          new KmsException(
              ACCESS_DENIED,
              "the operator's AWS identity may not call kms:"
                  + operation
                  + " on "
                  + key
                  + " ("
                  + detail
                  + "); see the IAM policy in docs/kms.md",
              e);
      case "InvalidKeyUsageException" ->
          new KmsException(
              KEY_UNUSABLE,
              "AWS KMS key " + key + " is not a symmetric ENCRYPT_DECRYPT key (" + detail + ")",
              e);
      case "InvalidCiphertextException", "IncorrectKeyException" ->
          new CorruptEnvelopeException(
              "AWS KMS refuses to unwrap"
                  + " the data key under "
                  + key
                  + " ("
                  + code
                  + "): it was altered, belongs to another secret or version, or was"
                  + " wrapped by another key",
              e);
      default ->
          AUTHENTICATION.contains(code)
              ? new KmsException(
                  AUTHENTICATION_FAILED,
                  "AWS rejects the operator's credentials for "
                      + operation
                      + " on "
                      + key
                      + " ("
                      + detail
                      + ")",
                  e)
              : new KmsException(
                  UNAVAILABLE,
                  "AWS KMS " + operation + " on " + key + " failed (" + detail + ")",
                  e);
    };
  }

  /** The AWS error code of a service error, else null. */
  public static String code(SdkException e) {
    return e instanceof AwsServiceException service && service.awsErrorDetails() != null
        ? service.awsErrorDetails().errorCode()
        : null;
  }

  private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName()
        + (root.getMessage() == null ? "" : ": " + root.getMessage());
  }
}
