package io.keywarden.operator.config;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.utils.Utils;
import io.quarkus.kubernetes.client.KubernetesConfigCustomizer;
import jakarta.inject.Singleton;

/**
 * Stops the Kubernetes client from re-reading its kubeconfig before every request when it
 * authenticates with a client certificate alone (a kubeconfig outside the cluster, the test control
 * plane).
 *
 * <p>Fabric8's TokenRefreshInterceptor refreshes the Config once a minute to pick up a new bearer
 * token, and only a token it finds resets the minute. With a certificate there is never a token, so
 * after the first minute every request re-runs the whole auto-configuration: the kubeconfig read
 * and parsed as YAML, its certificates decoded, environment and system properties scanned. The
 * profile of 1,000 ManagedSecrets created at once put a fifth of the operator's CPU there
 * (docs/benchmarks.md). An explicit token source that has none makes the refresh a no-op; the
 * certificate, read once at start, authenticates as before. In a pod the ServiceAccount token is
 * found, and its one-minute refresh (the token file is rotated by the kubelet) stays as it is.
 */
@Singleton
public class CertificateAuthRefresh implements KubernetesConfigCustomizer {

  @Override
  public void customize(Config config) {
    if (certificateOnly(config)) {
      config.setOauthTokenProvider(() -> null);
    }
  }

  /** A client certificate and no way to a bearer token or basic credentials. */
  static boolean certificateOnly(Config config) {
    boolean certificate =
        Utils.isNotNullOrEmpty(config.getClientCertData())
            || Utils.isNotNullOrEmpty(config.getClientCertFile());
    return certificate
        && config.getOauthTokenProvider() == null
        && Utils.isNullOrEmpty(config.getOauthToken())
        && Utils.isNullOrEmpty(config.getAutoOAuthToken())
        && Utils.isNullOrEmpty(config.getUsername())
        && config.getAuthProvider() == null;
  }
}
