package io.keywarden.contract;

/**
 * The environment variables the injector sets on the agent container and the agent reads: this file
 * is their reference. Values follow the grammars of {@link FileMode}, {@link Refresh}, {@link
 * OnChange}, {@link Format} and {@link Stage}; {@link #FILES} is rendered by {@link FileEntry}.
 */
public final class AgentEnv {

  /** Base URL of the secret-value API, {@code https://...}; required. */
  public static final String API_URL = "KEYWARDEN_API_URL";

  /** PEM certificates to trust for the API instead of the system trust store; optional. */
  public static final String API_CA = "KEYWARDEN_API_CA";

  /** A file with PEM certificates, read once at start; the alternative to {@link #API_CA}. */
  public static final String API_CA_FILE = "KEYWARDEN_API_CA_FILE";

  /** The projected ServiceAccount token (audience keywarden.io), read on every request. */
  public static final String TOKEN_FILE = "KEYWARDEN_TOKEN_FILE";

  /** The pod's namespace, where its ManagedSecrets live; required. */
  public static final String NAMESPACE = "KEYWARDEN_NAMESPACE";

  /** The directory the files go to (the shared emptyDir); default {@value #DEFAULT_OUTPUT_DIR}. */
  public static final String OUTPUT_DIR = "KEYWARDEN_OUTPUT_DIR";

  /**
   * JSON array, one object per file: {@code {"file":"db","secret":"db-password","key":null,
   * "format":"raw","stage":"CURRENT"}}; see {@link FileEntry}. Required; empty ({@code []}) only
   * with {@link #AWS_ENDPOINT_PORT}, {@link #AWS_CREDENTIALS_PORT} or {@link #AWS_DIR}.
   */
  public static final String FILES = "KEYWARDEN_FILES";

  /** Mode of every file, grammar {@link FileMode}; default {@code 0644}. */
  public static final String FILE_MODE = "KEYWARDEN_FILE_MODE";

  /** {@code watch} (default), {@code none} or an interval; grammar {@link Refresh}. */
  public static final String REFRESH = "KEYWARDEN_REFRESH";

  /** {@code signal:SIG<NAME>} or {@code exec:<command>}, or unset; grammar {@link OnChange}. */
  public static final String ON_CHANGE = "KEYWARDEN_ON_CHANGE";

  /** {@code true}: fetch once, write, exit (the classic-sidecar init container). */
  public static final String ONE_SHOT = "KEYWARDEN_ONE_SHOT";

  /** How long one long-poll may wait, in seconds, 1 to 300; default 60. */
  public static final String WATCH_TIMEOUT_SECONDS = "KEYWARDEN_WATCH_TIMEOUT_SECONDS";

  /** {@code true} allows an {@code http://} API URL; for tests only. */
  public static final String ALLOW_INSECURE_HTTP = "KEYWARDEN_ALLOW_INSECURE_HTTP";

  /**
   * With {@code keywarden.io/aws-endpoint}: the loopback port of the agent's AWS endpoint (grammar
   * {@link EndpointPort}); unset: no endpoint.
   */
  public static final String AWS_ENDPOINT_PORT = "KEYWARDEN_AWS_ENDPOINT_PORT";

  /**
   * With {@code keywarden.io/aws-sdk} on the direct route: the loopback port (grammar {@link
   * EndpointPort}) where the agent relays the app SDK's container-credentials call, plain HTTP, to
   * the API over HTTPS; unset: no relay. botocore (boto3, the AWS CLI) fetches container
   * credentials with its own CA bundle, not {@code AWS_CA_BUNDLE}, and takes plain HTTP on
   * loopback.
   */
  public static final String AWS_CREDENTIALS_PORT = "KEYWARDEN_AWS_CREDENTIALS_PORT";

  /**
   * With {@code keywarden.io/aws-sdk} and an API CA: a directory (its own memory volume) where the
   * agent writes the CA for the app's AWS SDK as {@link AwsSdkEnv#CA_FILE} and {@link
   * AwsSdkEnv#TRUST_STORE_FILE} before its first files.
   */
  public static final String AWS_DIR = "KEYWARDEN_AWS_DIR";

  /**
   * The SSRF token of the AWS Secrets Manager Agent paths, {@code file://<path>} or a value; the
   * agent also reads the other {@link AwsSdkEnv#SSRF_TOKEN_VARIABLES} as AWS's agent does.
   */
  public static final String SSRF_TOKEN = AwsSdkEnv.SSRF_TOKEN;

  /** Default of {@link #OUTPUT_DIR}, next to the ServiceAccount token kubelet mounts. */
  public static final String DEFAULT_OUTPUT_DIR = "/var/run/secrets/keywarden";

  private AgentEnv() {}
}
