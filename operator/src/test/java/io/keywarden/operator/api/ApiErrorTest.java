package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.failure.AccessDeniedException;
import io.keywarden.operator.failure.ConflictException;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.failure.Failure;
import io.keywarden.operator.failure.InvalidSpecException;
import io.keywarden.operator.failure.KmsException;
import io.keywarden.operator.failure.MissingCiphertextException;
import io.keywarden.operator.failure.RequestException;
import io.keywarden.operator.failure.RotationFailedException;
import io.keywarden.operator.failure.SignatureException;
import io.keywarden.operator.failure.UnknownKmsKeyException;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The one mapping from failures to HTTP status, AWS error type and Retry-After. */
class ApiErrorTest {

  static Stream<Arguments> failures() {
    return Stream.of(
        Arguments.of(
            "bad parameter", ApiException.badRequest("x"), 400, "InvalidParameterException", null),
        Arguments.of(
            "invalid spec",
            new InvalidSpecException("PasswordLength", "must be at least 4"),
            400,
            "InvalidParameterException",
            null),
        Arguments.of(
            "not yet Ready",
            RequestException.invalidRequest("x"),
            400,
            "InvalidRequestException",
            null),
        Arguments.of(
            "value too large",
            RequestException.tooLarge("x"),
            413,
            "InvalidParameterException",
            null),
        Arguments.of(
            "no such secret", ApiException.notFound("x"), 404, "ResourceNotFoundException", null),
        Arguments.of(
            "no such operation",
            RequestException.unknownOperation("x"),
            404,
            "UnknownOperationException",
            null),
        Arguments.of(
            "served through Kubernetes objects",
            RequestException.notServed("x"),
            400,
            "InvalidRequestException",
            null),
        Arguments.of(
            "same ClientRequestToken, other value",
            RequestException.resourceExists("x"),
            400,
            "ResourceExistsException",
            null),
        Arguments.of(
            "foreign NextToken",
            RequestException.invalidNextToken("x"),
            400,
            "InvalidNextTokenException",
            null),
        Arguments.of(
            "no token",
            new AccessDeniedException(false, "x"),
            401,
            "UnrecognizedClientException",
            null),
        Arguments.of(
            "RBAC says no",
            new AccessDeniedException(true, "x"),
            403,
            "AccessDeniedException",
            null),
        Arguments.of(
            "SigV4 header lacks a part",
            SignatureException.incomplete("x"),
            400,
            "IncompleteSignatureException",
            null),
        Arguments.of(
            "SigV4 signature does not verify",
            SignatureException.invalid("x"),
            400,
            "InvalidSignatureException",
            null),
        Arguments.of(
            "AWS session token not issued for this access key",
            SignatureException.unrecognized("x"),
            400,
            "UnrecognizedClientException",
            null),
        Arguments.of(
            "AWS credentials expired",
            SignatureException.expired("x"),
            400,
            "ExpiredTokenException",
            null),
        Arguments.of(
            "unknown KMS key",
            new UnknownKmsKeyException("hsm", Set.of("default")),
            503,
            "ServiceUnavailableException",
            30),
        Arguments.of(
            "KMS down",
            new KmsException(ManagedSecretConditions.KMS_UNAVAILABLE, "x"),
            503,
            "ServiceUnavailableException",
            5),
        Arguments.of(
            "altered envelope", new CorruptEnvelopeException("x"), 500, "DecryptionFailure", null),
        Arguments.of(
            "missing ciphertext",
            new MissingCiphertextException("v1", "keywarden-system"),
            500,
            "DecryptionFailure",
            null),
        Arguments.of(
            "rotation failed",
            new RotationFailedException(ManagedSecretConditions.ROTATION_HOOK_FAILED, "x"),
            500,
            "InternalServiceError",
            null),
        Arguments.of("write conflict", new ConflictException("x"), 409, "ConflictException", 1),
        Arguments.of(
            "Kubernetes conflict",
            new KubernetesClientException("conflict", 409, null),
            409,
            "ConflictException",
            1),
        Arguments.of(
            "too many waiters", RequestException.throttled("x"), 429, "ThrottlingException", 5),
        Arguments.of(
            "no worker free",
            RequestException.overloaded("x"),
            503,
            "ServiceUnavailableException",
            1),
        Arguments.of(
            "apiserver down",
            new KubernetesClientException("down", 503, null),
            503,
            "ServiceUnavailableException",
            2),
        Arguments.of(
            "apiserver unreachable",
            new KubernetesClientException("refused", 0, null),
            503,
            "ServiceUnavailableException",
            2),
        Arguments.of("a bug", new IllegalStateException("boom"), 500, "InternalServiceError", null),
        Arguments.of(
            "wrapped by JOSDK",
            new RuntimeException(new CorruptEnvelopeException("x")),
            500,
            "DecryptionFailure",
            null));
  }

  /**
   * awsJson's status by {@code __type}, as AWS answers: botocore's Secrets Manager model
   * (2017-10-17) marks only InternalServiceError a fault; every other modelled error, and AWS's
   * common client errors (AccessDeniedException, ThrottlingException, the signature errors,
   * UnknownOperationException), is a 400. ServiceUnavailableException is AWS's common 503.
   */
  private static final Map<String, Integer> AWS_JSON_STATUS =
      Map.ofEntries(
          Map.entry("InvalidParameterException", 400),
          Map.entry("InvalidRequestException", 400),
          Map.entry("ResourceNotFoundException", 400),
          Map.entry("UnknownOperationException", 400),
          Map.entry("ResourceExistsException", 400),
          Map.entry("InvalidNextTokenException", 400),
          Map.entry("UnrecognizedClientException", 400),
          Map.entry("AccessDeniedException", 400),
          Map.entry("IncompleteSignatureException", 400),
          Map.entry("InvalidSignatureException", 400),
          Map.entry("ExpiredTokenException", 400),
          Map.entry("DecryptionFailure", 400),
          Map.entry("ConflictException", 400),
          Map.entry("ThrottlingException", 400),
          Map.entry("InternalServiceError", 500),
          Map.entry("ServiceUnavailableException", 503));

  @ParameterizedTest(name = "{0}")
  @MethodSource("failures")
  void awsJsonAnswersWithAwsStatusesAndRestWithHttps(
      String name, RuntimeException thrown, int status, String type, Integer retryAfter) {
    ApiError error = ApiError.of(thrown);

    assertThat(Rendering.AWS_JSON.status(error)).as(type).isEqualTo(AWS_JSON_STATUS.get(type));
    assertThat(Rendering.REST.status(error)).isEqualTo(status);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("failures")
  void mapsEachFailure(
      String name, RuntimeException thrown, int status, String type, Integer retryAfter) {
    ApiError error = ApiError.of(thrown);

    assertThat(error.status()).isEqualTo(status);
    assertThat(error.type()).isEqualTo(type);
    assertThat(error.retryAfterSeconds()).isEqualTo(retryAfter);
    assertThat(error.message()).isNotBlank();
  }

  @ParameterizedTest
  @EnumSource(Failure.class)
  void everyFailureHasAnAnswerAndOnlyRetryableOnesSayWhen(Failure failure) {
    ApiError.Shape shape = ApiError.shape(failure);

    assertThat(shape.status()).isBetween(400, 599);
    assertThat(shape.type()).matches("[A-Z][A-Za-z]+");
    if (shape.retryAfterSeconds() != null) {
      assertThat(shape.status()).isIn(409, 429, 503);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("failures")
  void anUnforeseenErrorNeverLeaksItsMessage(
      String name, RuntimeException thrown, int status, String type, Integer retryAfter) {
    if ("InternalServiceError".equals(type) && !(thrown instanceof RotationFailedException)) {
      assertThat(ApiError.of(thrown).message()).isEqualTo("internal error; see the operator log");
    }
  }
}
