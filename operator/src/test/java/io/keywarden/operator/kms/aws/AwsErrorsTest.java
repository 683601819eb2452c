package io.keywarden.operator.kms.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.failure.KmsException;
import java.net.ConnectException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Every AWS failure becomes a condition reason that says what to fix; moto cannot produce most of
 * them.
 */
class AwsErrorsTest {

  private static final String KEY = "'alias/orders' (keywarden.kms.keys.aws.key-id)";

  static Stream<Arguments> serviceErrors() {
    return Stream.of(
        Arguments.of(
            "ThrottlingException", 400, "GenerateDataKey", AwsErrors.THROTTLED, "throttled"),
        Arguments.of("LimitExceededException", 400, "Decrypt", AwsErrors.THROTTLED, "throttled"),
        Arguments.of(
            "LimitExceededException",
            400,
            "RotateKeyOnDemand",
            AwsErrors.ROTATION_LIMIT,
            "automatic rotation"),
        Arguments.of(
            "KMSInternalException", 500, "Decrypt", AwsErrors.UNAVAILABLE, "could not serve"),
        Arguments.of(
            "DependencyTimeoutException", 503, "Decrypt", AwsErrors.UNAVAILABLE, "could not serve"),
        Arguments.of(
            "KeyUnavailableException", 500, "Decrypt", AwsErrors.UNAVAILABLE, "could not serve"),
        Arguments.of(
            "DisabledException", 400, "GenerateDataKey", AwsErrors.KEY_DISABLED, "is disabled"),
        Arguments.of(
            "KMSInvalidStateException", 400, "Decrypt", AwsErrors.KEY_DISABLED, "pending deletion"),
        Arguments.of(
            "NotFoundException", 400, "GenerateDataKey", AwsErrors.KEY_NOT_FOUND, "does not exist"),
        Arguments.of(
            "AccessDeniedException", 400, "Encrypt", AwsErrors.ACCESS_DENIED, "kms:Encrypt"),
        Arguments.of(
            "InvalidKeyUsageException", 400, "Encrypt", AwsErrors.KEY_UNUSABLE, "symmetric"),
        Arguments.of(
            "UnrecognizedClientException",
            400,
            "Decrypt",
            AwsErrors.AUTHENTICATION_FAILED,
            "credentials"),
        Arguments.of(
            "ExpiredTokenException",
            400,
            "Decrypt",
            AwsErrors.AUTHENTICATION_FAILED,
            "credentials"),
        Arguments.of(
            "SomethingNewException",
            400,
            "Decrypt",
            AwsErrors.UNAVAILABLE,
            "SomethingNewException"));
  }

  @ParameterizedTest(name = "{0} on {2} -> {3}")
  @MethodSource("serviceErrors")
  void serviceErrorsBecomeReasonsNamingTheKey(
      String code, int status, String operation, String reason, String hint) {
    RuntimeException mapped = AwsErrors.map(operation, KEY, service(code, status));

    assertThat(mapped).isInstanceOf(KmsException.class);
    assertThat(((KmsException) mapped).reason()).isEqualTo(reason);
    assertThat(mapped.getMessage()).contains(KEY).contains(hint);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tamperedCodes")
  void aCiphertextKmsRefusesIsACorruptEnvelopeNotAnOutage(String code) {
    assertThat(AwsErrors.map("Decrypt", KEY, service(code, 400)))
        .isInstanceOf(CorruptEnvelopeException.class)
        .hasMessageContaining("another secret or version");
  }

  static Stream<String> tamperedCodes() {
    return Stream.of("InvalidCiphertextException", "IncorrectKeyException");
  }

  @Test
  void unreachableEndpointIsAnOutage() {
    SdkException e =
        SdkClientException.builder()
            .message("Unable to execute HTTP request: Connection refused")
            .cause(new ConnectException("Connection refused"))
            .build();

    KmsException mapped = (KmsException) AwsErrors.map("Decrypt", KEY, e);

    assertThat(mapped.reason()).isEqualTo(AwsErrors.UNAVAILABLE);
    assertThat(mapped.getMessage())
        .contains("unreachable")
        .contains("ConnectException: Connection refused");
  }

  @Test
  void timeoutNamesTheSetting() {
    KmsException mapped =
        (KmsException) AwsErrors.map("Decrypt", KEY, ApiCallTimeoutException.create(10_000));

    assertThat(mapped.reason()).isEqualTo(AwsErrors.UNAVAILABLE);
    assertThat(mapped.getMessage()).contains("keywarden.kms.aws.api-call-timeout");
  }

  @Test
  void missingRegionAndCredentialsAreConfigurationErrors() {
    KmsException region =
        (KmsException)
            AwsErrors.map(
                "connect",
                KEY,
                SdkClientException.create(
                    "Unable to load region from any of the providers in the chain"));
    KmsException credentials =
        (KmsException)
            AwsErrors.map(
                "Decrypt",
                KEY,
                SdkClientException.create(
                    "Unable to load credentials from any of the providers in the chain"));

    assertThat(region.reason()).isEqualTo(AwsErrors.MISCONFIGURED);
    assertThat(region.getMessage()).contains("keywarden.kms.aws.region");
    assertThat(credentials.reason()).isEqualTo(AwsErrors.MISCONFIGURED);
    assertThat(credentials.getMessage()).contains("IRSA");
  }

  private static SdkException service(String code, int status) {
    return software.amazon.awssdk.services.kms.model.KmsException.builder()
        .awsErrorDetails(
            AwsErrorDetails.builder()
                .errorCode(code)
                .errorMessage("message from AWS")
                .serviceName("Kms")
                .build())
        .statusCode(status)
        .message("message from AWS")
        .build();
  }
}
