package io.keywarden.injector;

import io.keywarden.contract.FileSetParser;

/**
 * Every label and annotation the injector reads: this file is the reference for users.
 *
 * <p>Per-file annotations end in {@code <file>}, the name of the file in the mount path; it is a
 * plain name ({@code [A-Za-z0-9._-]}, no {@code /}, not starting with {@code ..}) because a past
 * CSI-driver advisory wrote outside its mount through such paths, and because kubelet-style atomic
 * writes reserve names starting with {@code ..}. Any other annotation under {@code keywarden.io/}
 * denies the pod, so a typo never silently drops a secret.
 */
public final class Annotations {

  /** The prefix every Keywarden label and annotation shares. */
  public static final String PREFIX = "keywarden.io/";

  /**
   * Pod label (not an annotation) that opts a pod in; the only accepted value is {@link
   * #INJECT_ENABLED}. A label, so the webhook's objectSelector sends only opted-in pods and can
   * fail closed without affecting any other pod during an injector outage.
   */
  public static final String INJECT_LABEL = PREFIX + "inject";

  /** The value of {@link #INJECT_LABEL} that opts a pod in. */
  public static final String INJECT_ENABLED = "true";

  /**
   * Pod-wide: how the pod gets its files. {@code sidecar}: the agent runs in the pod (a native
   * sidecar); {@code csi}: an inline volume of the Keywarden CSI node plugin ({@code
   * csi.keywarden.io}) mounted read-only, with no process in the pod, so {@link #ON_CHANGE} and the
   * AWS annotations are refused. Default: the injector's {@code keywarden.injector.default-mode}
   * ({@code sidecar} unless configured). See docs/csi.md.
   */
  public static final String MODE = PREFIX + "mode";

  /**
   * {@code keywarden.io/secret.<file>: <managedsecret>} writes the ManagedSecret (same namespace, a
   * DNS-1123 subdomain) to {@code <mount-path>/<file>}. At least one is required.
   */
  public static final String SECRET_PREFIX = PREFIX + FileSetParser.SECRET;

  /**
   * {@code keywarden.io/key.<file>: <key>} writes only one top-level key of a JSON secret value.
   * Requires the matching {@code keywarden.io/secret.<file>}.
   */
  public static final String KEY_PREFIX = PREFIX + FileSetParser.KEY;

  /**
   * {@code keywarden.io/format.<file>}: {@code raw} (default, the value as stored), {@code json},
   * {@code env} ({@code KEY=value} lines) or {@code properties}. Requires the matching {@code
   * keywarden.io/secret.<file>}.
   */
  public static final String FORMAT_PREFIX = PREFIX + FileSetParser.FORMAT;

  /**
   * {@code keywarden.io/stage.<file>}: which version to write, by staging label as in AWS Secrets
   * Manager: {@code CURRENT} (default), {@code PREVIOUS} or {@code PENDING}. Requires the matching
   * {@code keywarden.io/secret.<file>}.
   */
  public static final String STAGE_PREFIX = PREFIX + FileSetParser.STAGE;

  /**
   * Pod-wide directory where the files appear in the app containers; absolute and normalised, never
   * {@code /}. Default {@link #DEFAULT_MOUNT_PATH}.
   */
  public static final String MOUNT_PATH = PREFIX + "mount-path";

  /** Default for {@link #MOUNT_PATH}, next to the service-account token kubelet mounts. */
  public static final String DEFAULT_MOUNT_PATH = "/var/run/secrets/keywarden";

  /**
   * Pod-wide POSIX mode of the files: octal, {@code 0400}, {@code 0440} or {@code 440}, at most
   * {@code 0777} and always owner-readable (grammar {@link io.keywarden.contract.FileMode}).
   * Default {@link #DEFAULT_FILE_MODE}. Which user and group own the files is decided from the
   * pod's security context; see docs/injection.md.
   */
  public static final String FILE_MODE = PREFIX + FileSetParser.FILE_MODE;

  /** Default for {@link #FILE_MODE}: kubelet's default for Secret volumes. */
  public static final int DEFAULT_FILE_MODE = io.keywarden.contract.FileMode.DEFAULT;

  /**
   * Pod-wide: {@code watch} (default; rewrite as soon as the value changes), an interval such as
   * {@code 30s}, {@code 5m}, {@code 1h} or {@code 1h30m} (poll), or {@code none} (write once at
   * start); grammar {@link io.keywarden.contract.Refresh}.
   */
  public static final String REFRESH = PREFIX + FileSetParser.REFRESH;

  /**
   * Pod-wide action after the files changed: {@code signal:SIG<NAME>} with one of SIGHUP, SIGINT,
   * SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 or SIGWINCH (the injector sets {@code shareProcessNamespace:
   * true}), or {@code exec:<cmd>}; grammar {@link io.keywarden.contract.OnChange}. Default: no
   * action, the app rereads the files itself.
   */
  public static final String ON_CHANGE = PREFIX + "on-change";

  /**
   * Pod-wide comma-separated names of the containers that mount the files (DNS-1123 labels).
   * Default: every app container.
   */
  public static final String CONTAINERS = PREFIX + "containers";

  /**
   * Pod-wide {@code true} or {@code false} (default; grammar {@link io.keywarden.contract.Flag}):
   * the injector sets in the selected app containers the variables with which the AWS SDKs and CLI
   * call Keywarden's Secrets Manager API unchanged: {@code AWS_ENDPOINT_URL_SECRETS_MANAGER}, the
   * container-credentials pair (or, with {@link #AWS_ENDPOINT}, the agent's loopback endpoint),
   * {@code AWS_REGION} and {@code AWS_DEFAULT_REGION}, and the API's CA for Python, Node.js and
   * Java. A container's own AWS settings are never overwritten: see docs/injection.md.
   */
  public static final String AWS_SDK = PREFIX + "aws-sdk";

  /**
   * Pod-wide {@code true} or {@code false} (default): the agent serves the Secrets Manager protocol
   * and AWS's Secrets Manager Agent paths on {@code http://127.0.0.1:<port>} in the pod, forwarding
   * with the pod's token whatever the app signed: the route for apps that also use real AWS.
   */
  public static final String AWS_ENDPOINT = PREFIX + "aws-endpoint";

  /**
   * The loopback port of the agent's AWS server, 1024 to 65535 (grammar {@link
   * io.keywarden.contract.EndpointPort}); default 2773, the port of AWS's Secrets Manager Agent:
   * the endpoint of {@link #AWS_ENDPOINT}, or without it the container-credentials relay of {@link
   * #AWS_SDK}'s direct route. Requires one of them.
   */
  public static final String AWS_ENDPOINT_PORT = PREFIX + "aws-endpoint-port";

  /**
   * The region the app's AWS SDK is given (grammar {@link io.keywarden.contract.AwsRegion});
   * default the injector's {@code keywarden.injector.aws-region}, which should equal the operator's
   * {@code keywarden.aws.region}. Requires {@link #AWS_SDK}.
   */
  public static final String AWS_REGION = PREFIX + "aws-region";

  private Annotations() {}
}
