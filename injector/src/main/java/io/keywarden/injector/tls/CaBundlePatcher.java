package io.keywarden.injector.tls;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;
import org.jboss.logging.Logger;

/**
 * Keeps the caBundle of every webhook in the injector's MutatingWebhookConfiguration on our CA.
 * Every replica does this at start and on each certificate check, so replicas patch at the same
 * moment: a write that loses the race (409) reads the configuration again, where it usually finds
 * the winner's identical bundle and has nothing left to do.
 */
public final class CaBundlePatcher {

  private static final Logger LOG = Logger.getLogger(CaBundlePatcher.class);
  private static final int ATTEMPTS = 5;

  private final KubernetesClient client;
  private final String configurationName;

  public CaBundlePatcher(KubernetesClient client, String configurationName) {
    this.client = client;
    this.configurationName = configurationName;
  }

  /**
   * @return whether the configuration exists (a missing one is installed later, e.g. by Helm; the
   *     next check patches it)
   * @throws KubernetesClientException when the apiserver refuses the patch, or the configuration
   *     changed under every one of five attempts
   */
  public boolean patch(String caBundlePem) {
    String caBundle =
        Base64.getEncoder().encodeToString(caBundlePem.getBytes(StandardCharsets.UTF_8));
    for (int attempt = 1; ; attempt++) {
      try {
        return patchOnce(caBundle);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == ATTEMPTS) {
          throw e;
        }
        LOG.debugf(
            "MutatingWebhookConfiguration %s changed concurrently; reading it again",
            configurationName);
      }
    }
  }

  private boolean patchOnce(String caBundle) {
    var resource =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName(configurationName);
    MutatingWebhookConfiguration current = resource.get();
    if (current == null) {
      LOG.warnf(
          "MutatingWebhookConfiguration %s not found; its caBundle is patched on the next check",
          configurationName);
      return false;
    }
    boolean upToDate =
        current.getWebhooks().stream()
            .allMatch(webhook -> caBundle.equals(webhook.getClientConfig().getCaBundle()));
    if (!upToDate) {
      // edit() sends a JSON patch of just the caBundle fields, guarded by the resourceVersion it
      // read: other fields changed meanwhile survive, and a concurrent change is a 409, not lost.
      resource.edit(
          configuration -> {
            for (MutatingWebhook webhook : configuration.getWebhooks()) {
              Objects.requireNonNull(webhook.getClientConfig(), "clientConfig")
                  .setCaBundle(caBundle);
            }
            return configuration;
          });
      LOG.infof("patched the caBundle of MutatingWebhookConfiguration %s", configurationName);
    }
    return true;
  }
}
