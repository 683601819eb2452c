package io.keywarden.operator.config;

import io.keywarden.tls.LifetimeConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Operator configuration (application.properties, env KEYWARDEN_*). Defaults documented in
 * docs/configuration.md.
 */
@ConfigMapping(prefix = "keywarden")
public interface KeywardenConfig {

  /** The operator's own namespace: ciphertext and master keys live here, out of tenants' reach. */
  String namespace();

  Kms kms();

  Api api();

  Rotation rotation();

  LeaderElection leaderElection();

  AwsIdentity aws();

  Recovery recovery();

  /**
   * Deleted ManagedSecrets: their versions are kept for spec.deletion.recoveryWindowDays, then
   * purged (docs/managedsecret.md#deletion-and-restore).
   */
  interface Recovery {
    /**
     * How often the leader looks for recovery windows that ended. The purge time itself is in each
     * record, so a restart or a new leader neither forgets nor hastens a purge.
     */
    @WithDefault("1m")
    Duration purgeInterval();

    /**
     * How long one day of a recovery window lasts. Only tests change it, to see a window end in
     * seconds; a production operator keeps 24h.
     */
    @WithDefault("24h")
    Duration dayLength();
  }

  /**
   * How the AWS Secrets Manager protocol names this Keywarden: the region and account in the ARNs
   * it answers (docs/aws-compatibility.md). Clients never see another; ARNs naming another region
   * or account are refused.
   */
  interface AwsIdentity {
    @WithDefault("us-east-1")
    String region();

    /** Twelve digits, as AWS account ids are. */
    @WithDefault("000000000000")
    String accountId();
  }

  interface LeaderElection {
    /**
     * Run the controllers on one replica at a time, chosen through a coordination.k8s.io Lease in
     * the operator namespace. Off by default so a single local process starts without waiting for
     * an old lease to expire; the Helm chart turns it on. The secret-value API serves on every
     * replica.
     */
    @WithDefault("false")
    boolean enabled();

    @WithDefault("keywarden-operator")
    String leaseName();

    /**
     * This candidate's name in the Lease; defaults to the host (pod) name plus a per-process
     * suffix.
     */
    Optional<String> identity();

    @WithDefault("15s")
    Duration leaseDuration();

    @WithDefault("10s")
    Duration renewDeadline();

    @WithDefault("2s")
    Duration retryPeriod();
  }

  interface Rotation {
    /** Schedules more frequent than this are refused (spec.schedule). Tests lower it. */
    @WithDefault("1h")
    Duration minimumInterval();

    /**
     * The ServiceAccount (in the operator namespace) whose token authenticates the operator to
     * rotation hooks.
     */
    @WithDefault("keywarden-operator")
    String serviceAccount();

    /**
     * How many secrets of one schedule rotate at the same time when they fall due together. Each
     * rotation is a handful of apiserver writes plus the strategy's own calls (hook, database).
     */
    @WithDefault("8")
    int parallelism();
  }

  interface Api {
    /** Serve the secret-value API (HTTPS) from this replica. */
    @WithDefault("true")
    boolean enabled();

    @WithDefault("8443")
    int port();

    @WithDefault("0.0.0.0")
    String host();

    /** Tokens must be bound to this audience. */
    @WithDefault("keywarden.io")
    String audience();

    /**
     * PEM certificate chain and PKCS#8 key to serve with (set both), reloaded when their contents
     * change; when absent a CA and certificate are generated and shared through a Secret.
     */
    Optional<String> certFile();

    Optional<String> keyFile();

    @WithDefault("keywarden-api-tls")
    String tlsSecretName();

    /** Extra DNS names or IP addresses for the generated serving certificate. */
    Optional<List<String>> extraSans();

    Tls tls();

    /**
     * Lifetimes (validity, ca-validity, renew-before, ca-overlap) and checks of the certificate.
     */
    interface Tls extends LifetimeConfig {
      /**
       * How often cert-file and key-file are read for changes, or the Secret for another replica's
       * renewal; renewing itself happens at the renewal point, not at the next check.
       */
      @WithDefault("1m")
      Duration checkInterval();

      /**
       * TLS implementation of the API port: {@code auto} (OpenSSL when it loads, else the JDK's),
       * {@code openssl} (refuse to start without it) or {@code jdk}.
       */
      @WithDefault("auto")
      TlsEngine engine();
    }

    /**
     * HTTPS servers on the API port, each on its own event loop (TLS, HTTP, and answers whose
     * token, decision and data key are cached); one per CPU when absent.
     */
    OptionalInt eventLoops();

    /** Threads for the blocking part of requests (TokenReview, SubjectAccessReview, decryption). */
    @WithDefault("16")
    int workerThreads();

    /** Requests waiting for a thread beyond this get 503 with Retry-After. */
    @WithDefault("4096")
    int maxQueued();

    /** Long-poll waiters beyond this get 429 with Retry-After. */
    @WithDefault("20000")
    int maxWaiters();

    /**
     * AWS credentials for pods: the container-credentials endpoint and the SigV4 verification of
     * requests signed with them (docs/aws-compatibility.md, "Credentials").
     */
    AwsCredentials awsCredentials();

    interface AwsCredentials {
      /**
       * The longest lifetime of issued credentials; they never outlive the ServiceAccount token
       * they were issued for either.
       */
      @WithDefault("1h")
      Duration maxLifetime();

      /**
       * The Secret of the operator namespace holding the session keys every replica seals and opens
       * session tokens with; created on first use.
       */
      @WithDefault("keywarden-aws-session-keys")
      String keysSecretName();

      /** How often a replica re-reads the session keys, so a newly added key becomes primary. */
      @WithDefault("1m")
      Duration keysReloadInterval();
    }

    /** How long a successful TokenReview is reused (never past the token's own expiry). */
    @WithDefault("60s")
    Duration tokenCacheTtl();

    /**
     * How long an authorization decision is reused; a removed RoleBinding stops working after at
     * most this.
     */
    @WithDefault("2s")
    Duration decisionCacheTtl();

    /**
     * Whether the operator watches Roles, RoleBindings, ClusterRoles and ClusterRoleBindings, so
     * that it keeps decisions for {@link #watchedDecisionCacheTtl()} and forgets them at any RBAC
     * change instead of after {@link #decisionCacheTtl()}.
     */
    @WithDefault("true")
    boolean rbacWatch();

    /**
     * How long an authorization decision is reused while the RBAC watch sees every change (a change
     * of a Role or binding forgets the decisions it may affect at once).
     */
    @WithDefault("5m")
    Duration watchedDecisionCacheTtl();
  }

  interface Kms {
    /** The alias used when a ManagedSecret leaves spec.kmsKeyId empty. */
    @WithDefault("default")
    String defaultKeyId();

    /** Alias to provider and key. */
    Map<String, Key> keys();

    /** How long an unwrapped data key stays in memory. Zero disables the cache. */
    @WithDefault("5m")
    Duration dekCacheTtl();

    @WithDefault("10000")
    int dekCacheSize();

    /**
     * How often every configured key is checked (reachable, enabled, permitted). The results feed
     * readiness, the kms health group and the Degraded condition of the secrets using the key.
     */
    @WithDefault("15s")
    Duration healthInterval();

    Local local();

    Aws aws();

    Pkcs11 pkcs11();
  }

  /**
   * The aws-kms provider; read only when a key names it, so installs without AWS keys need none of
   * it.
   */
  interface Aws {
    /**
     * Region of the keys; when absent the SDK's chain decides (AWS_REGION, profile, instance
     * metadata).
     */
    Optional<String> region();

    /** Another endpoint: a VPC interface endpoint, a FIPS endpoint, or a local test server. */
    Optional<URI> endpointOverride();

    /**
     * Attempts per call in the SDK's standard retry mode (exponential backoff with jitter;
     * throttling is retried).
     */
    @WithDefault("3")
    int maxAttempts();

    /**
     * Upper bound of one call, retries included, so a hung network never holds an API worker for
     * long.
     */
    @WithDefault("10s")
    Duration apiCallTimeout();

    /** Upper bound of one attempt. */
    @WithDefault("3s")
    Duration apiCallAttemptTimeout();
  }

  interface Key {
    /** local, aws-kms or pkcs11. */
    String provider();

    /** The provider's key id; defaults to the alias. */
    Optional<String> keyId();
  }

  interface Local {
    /**
     * Secret in the operator namespace that holds the local master keys; created on first start.
     */
    @WithDefault("keywarden-master-keys")
    String secretName();

    /**
     * A mounted file with the master keys (properties: name.vN=base64); when set, the Secret is not
     * used.
     */
    Optional<String> keyFile();
  }

  /**
   * The pkcs11 provider: one token of one PKCS#11 module, through the JDK's SunPKCS11
   * (docs/kms.md#pkcs11).
   */
  interface Pkcs11 {
    /** The PKCS#11 module (shared library) of the HSM. */
    @WithDefault("/usr/lib/softhsm/libsofthsm2.so")
    String library();

    /** The token by its label (as softhsm2-util --init-token --label sets it); or use slot. */
    Optional<String> tokenLabel();

    /** The token by slot id; or use token-label. With neither, the first slot the module lists. */
    Optional<Long> slot();

    /**
     * A mounted file whose content (trailing newline ignored) is the user PIN; or use
     * pin-secret-name.
     */
    Optional<String> pinFile();

    /** A Secret in the operator namespace that holds the user PIN; or use pin-file. */
    Optional<String> pinSecretName();

    @WithDefault("pin")
    String pinSecretKey();

    /** Generate version 1 of a key in the token when it has none, as the local provider does. */
    @WithDefault("true")
    boolean createMissingKeys();

    /** Token operations at once; the rest wait. Keeps within the HSM's session limit. */
    @WithDefault("8")
    int maxConcurrentOperations();

    /** How long an operation waits for its turn before it fails with KmsBusy. */
    @WithDefault("10s")
    Duration operationTimeout();
  }
}
