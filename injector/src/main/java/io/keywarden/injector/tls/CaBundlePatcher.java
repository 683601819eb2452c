package io.keywarden.injector.tls;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;
import org.jboss.logging.Logger;

/** Keeps the caBundle of every webhook in the injector's MutatingWebhookConfiguration on our CA. */
public final class CaBundlePatcher {

  private static final Logger LOG = Logger.getLogger(CaBundlePatcher.class);

  private final KubernetesClient client;
  private final String configurationName;

  public CaBundlePatcher(KubernetesClient client, String configurationName) {
    this.client = client;
    this.configurationName = configurationName;
  }

  /**
   * @return whether the configuration exists (a missing one is installed later, e.g. by Helm; the
   *     next check patches it)
   */
  public boolean patch(String caBundlePem) {
    String caBundle =
        Base64.getEncoder().encodeToString(caBundlePem.getBytes(StandardCharsets.UTF_8));
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
      // edit() sends a JSON patch of just the caBundle fields: other fields changed meanwhile
      // survive.
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
