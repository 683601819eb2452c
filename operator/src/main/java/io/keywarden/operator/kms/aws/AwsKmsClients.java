package io.keywarden.operator.kms.aws;

import io.keywarden.operator.config.KeywardenConfig;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.KmsClientBuilder;

/**
 * Builds the KMS client: the JDK's URLConnection as HTTP client (no Apache or Netty next to
 * Quarkus' own Netty), the default credentials chain (environment, web identity token files as IRSA
 * mounts them, EKS Pod Identity's container credentials, profiles, instance roles), and the SDK's
 * standard retry mode (exponential backoff with jitter; throttling and 5xx are retried).
 */
final class AwsKmsClients {

  private AwsKmsClients() {}

  static KmsClient build(KeywardenConfig.Aws settings) {
    KmsClientBuilder builder =
        KmsClient.builder()
            .httpClientBuilder(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(settings.apiCallAttemptTimeout())
                    .socketTimeout(settings.apiCallAttemptTimeout()))
            .credentialsProvider(DefaultCredentialsProvider.builder().build())
            .overrideConfiguration(
                o ->
                    o.retryStrategy(
                            AwsRetryStrategy.standardRetryStrategy().toBuilder()
                                .maxAttempts(settings.maxAttempts())
                                .build())
                        .apiCallTimeout(settings.apiCallTimeout())
                        .apiCallAttemptTimeout(settings.apiCallAttemptTimeout()));
    settings.region().map(Region::of).ifPresent(builder::region);
    settings.endpointOverride().ifPresent(builder::endpointOverride);
    return builder.build();
  }
}
