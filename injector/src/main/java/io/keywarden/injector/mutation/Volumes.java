package io.keywarden.injector.mutation;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;

/** The volumes the injector adds to a pod, and their mounts. */
public final class Volumes {

  /** Memory-backed emptyDir the agent writes the files to: secrets never touch the node's disk. */
  public static final String SECRETS = "keywarden-secrets";

  /** Projected ServiceAccount token the agent authenticates with. */
  public static final String TOKEN = "keywarden-token";

  /** Audience of the token, so it is useless against the Kubernetes API and any other service. */
  public static final String TOKEN_AUDIENCE = "keywarden.io";

  public static final long TOKEN_EXPIRATION_SECONDS = 3600;

  /**
   * Outside the default secrets mount path on purpose: a token mount nested in the agent's output
   * directory would appear as an empty "token" directory in the app's mount and clash with a file
   * named "token".
   */
  public static final String TOKEN_DIR = "/var/run/secrets/keywarden-token";

  public static final String TOKEN_FILE = TOKEN_DIR + "/token";

  /**
   * Where the ServiceAccount admission plugin mounts the pod's Kubernetes API token into every
   * container that has no mount there yet (plugin/pkg/admission/serviceaccount, also when it runs
   * again after the webhook). The agent needs no API token, so its container mounts its own
   * keywarden.io token here as well, which keeps the API token out of the agent only.
   */
  public static final String API_TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

  /**
   * Bounds what a runaway agent can take from the pod's memory; far above any realistic secret set.
   */
  public static final String SECRETS_SIZE_LIMIT = "8Mi";

  /**
   * Memory-backed emptyDir where the agent writes the API's CA for the app's AWS SDK
   * (keywarden.io/aws-sdk without aws-endpoint): a pod cannot mount the CA ConfigMap of the
   * operator's namespace.
   */
  public static final String AWS = "keywarden-aws";

  /** Where {@link #AWS} is mounted, in the agent (writable) and the app containers (read-only). */
  public static final String AWS_DIR = "/var/run/secrets/keywarden-aws";

  /** The CA PEM and a PKCS12 trust store with the JDK's public CAs: far below this. */
  public static final String AWS_SIZE_LIMIT = "1Mi";

  private Volumes() {}

  public static Volume aws() {
    return new VolumeBuilder()
        .withName(AWS)
        .withNewEmptyDir()
        .withMedium("Memory")
        .withSizeLimit(new Quantity(AWS_SIZE_LIMIT))
        .endEmptyDir()
        .build();
  }

  public static VolumeMount appAwsMount() {
    return new VolumeMountBuilder().withName(AWS).withMountPath(AWS_DIR).withReadOnly(true).build();
  }

  /** Writable; readOnly unset for the same reason as {@link #agentSecretsMount(String)}. */
  public static VolumeMount agentAwsMount() {
    return new VolumeMountBuilder().withName(AWS).withMountPath(AWS_DIR).build();
  }

  /**
   * The keywarden.io token in an app container, for the AWS SDK's container-credentials provider or
   * as the SSRF token of the agent's AWS endpoint; the same path as in the agent.
   */
  public static VolumeMount appTokenMount() {
    return agentTokenMount();
  }

  public static Volume secrets() {
    return new VolumeBuilder()
        .withName(SECRETS)
        .withNewEmptyDir()
        .withMedium("Memory")
        .withSizeLimit(new Quantity(SECRETS_SIZE_LIMIT))
        .endEmptyDir()
        .build();
  }

  public static Volume token() {
    return new VolumeBuilder()
        .withName(TOKEN)
        .withNewProjected()
        .addNewSource()
        .withNewServiceAccountToken()
        .withAudience(TOKEN_AUDIENCE)
        .withExpirationSeconds(TOKEN_EXPIRATION_SECONDS)
        .withPath("token")
        .endServiceAccountToken()
        .endSource()
        .endProjected()
        .build();
  }

  /** What app containers see: read-only, so only the agent can change the files. */
  public static VolumeMount appSecretsMount(String mountPath) {
    return new VolumeMountBuilder()
        .withName(SECRETS)
        .withMountPath(mountPath)
        .withReadOnly(true)
        .build();
  }

  /**
   * The agent's writable mount. readOnly stays unset rather than false: the apiserver drops a false
   * readOnly, and the stored mount must still match this one for the mutation to be idempotent.
   */
  public static VolumeMount agentSecretsMount(String mountPath) {
    return new VolumeMountBuilder().withName(SECRETS).withMountPath(mountPath).build();
  }

  /** Takes the API token's place in the agent container; see {@link #API_TOKEN_DIR}. */
  public static VolumeMount agentApiTokenPlaceholder() {
    return new VolumeMountBuilder()
        .withName(TOKEN)
        .withMountPath(API_TOKEN_DIR)
        .withReadOnly(true)
        .build();
  }

  public static VolumeMount agentTokenMount() {
    return new VolumeMountBuilder()
        .withName(TOKEN)
        .withMountPath(TOKEN_DIR)
        .withReadOnly(true)
        .build();
  }
}
