package io.keywarden.contract;

import java.util.List;

/**
 * The AWS variables Keywarden sets or checks, with the names the AWS SDKs and CLI read (see
 * docs/injection.md, "AWS SDKs"). The injector sets them in app containers with {@code
 * keywarden.io/aws-sdk}; the agent reads {@link #SSRF_TOKEN_VARIABLES} as AWS's Secrets Manager
 * Agent does.
 */
public final class AwsSdkEnv {

  /** The Secrets Manager endpoint: the operator API, or the agent's loopback endpoint. */
  public static final String ENDPOINT_URL_SECRETS_MANAGER = "AWS_ENDPOINT_URL_SECRETS_MANAGER";

  /** The container-credentials provider's URL (HTTPS unless loopback or link-local). */
  public static final String CONTAINER_CREDENTIALS_FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI";

  /** A file whose content the provider sends verbatim as {@code Authorization}. */
  public static final String CONTAINER_AUTHORIZATION_TOKEN_FILE =
      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

  /** Read by the Java and JavaScript SDKs and the AWS CLI v2. */
  public static final String REGION = "AWS_REGION";

  /** Read by boto3 and the AWS CLI v1, which ignore {@link #REGION} alone. */
  public static final String DEFAULT_REGION = "AWS_DEFAULT_REGION";

  /** PEM file of the CAs botocore (boto3, the CLI) trusts. */
  public static final String CA_BUNDLE = "AWS_CA_BUNDLE";

  /** PEM file of extra CAs Node.js trusts (the JavaScript SDK). */
  public static final String NODE_EXTRA_CA_CERTS = "NODE_EXTRA_CA_CERTS";

  /** Options every JVM of the container reads at start: the Java SDK's trust store. */
  public static final String JAVA_TOOL_OPTIONS = "JAVA_TOOL_OPTIONS";

  /**
   * The first of {@link #SSRF_TOKEN_VARIABLES}, which AWS's agent reads first: the token that the
   * Secrets Manager Agent paths require in {@link #SSRF_HEADERS}, as a value or as {@code
   * file://<path>}. Not read by the SDKs, so setting it changes nothing else.
   */
  public static final String SSRF_TOKEN = "AWS_TOKEN";

  /** Where AWS's Secrets Manager Agent looks for its SSRF token, in this order. */
  public static final List<String> SSRF_TOKEN_VARIABLES =
      List.of(SSRF_TOKEN, "AWS_SESSION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN");

  /** The headers AWS's Secrets Manager Agent accepts the SSRF token in. */
  public static final List<String> SSRF_HEADERS =
      List.of("X-Aws-Parameters-Secrets-Token", "X-Vault-Token");

  /**
   * Credentials the SDKs' default chains use before container credentials: with one of these the
   * SDK would sign with the container's own AWS identity, which the operator API does not accept;
   * such a container needs the loopback endpoint ({@code keywarden.io/aws-endpoint}). The relative
   * URI and the inline token take precedence over {@link #CONTAINER_CREDENTIALS_FULL_URI} and
   * {@link #CONTAINER_AUTHORIZATION_TOKEN_FILE} in some SDKs.
   */
  public static final List<String> PRECEDING_CREDENTIALS =
      List.of(
          "AWS_ACCESS_KEY_ID",
          "AWS_SECRET_ACCESS_KEY",
          "AWS_SESSION_TOKEN",
          "AWS_WEB_IDENTITY_TOKEN_FILE",
          "AWS_PROFILE",
          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
          "AWS_CONTAINER_AUTHORIZATION_TOKEN");

  /** {@code true} makes the SDKs ignore {@link #ENDPOINT_URL_SECRETS_MANAGER}. */
  public static final String IGNORE_CONFIGURED_ENDPOINT_URLS =
      "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";

  /** The operator API's container-credentials path (served by the operator on port 8443). */
  public static final String CREDENTIALS_PATH = "/v1/aws/credentials";

  /** In {@link AgentEnv#AWS_DIR}: the API's CA certificates, PEM. */
  public static final String CA_FILE = "ca.crt";

  /**
   * In {@link AgentEnv#AWS_DIR}: the same certificates as a PKCS12 trust store without password.
   */
  public static final String TRUST_STORE_FILE = "truststore.p12";

  private AwsSdkEnv() {}
}
