package io.keywarden.injector.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shipped registration keeps the properties that make failurePolicy Fail safe. */
class MutatingWebhookManifestTest {

  @Test
  void onlyOptedInPodsOutsideSystemNamespacesAreSent() throws Exception {
    MutatingWebhookConfiguration configuration;
    try (InputStream in = getClass().getResourceAsStream("/kubernetes/mutating-webhook.yaml")) {
      configuration =
          new KubernetesSerialization().unmarshal(in, MutatingWebhookConfiguration.class);
    }
    assertThat(configuration.getMetadata().getName()).isEqualTo("keywarden-injector");
    MutatingWebhook webhook = configuration.getWebhooks().get(0);
    assertThat(webhook.getFailurePolicy()).isEqualTo("Fail");
    assertThat(webhook.getSideEffects()).isEqualTo("None");
    assertThat(webhook.getTimeoutSeconds()).isEqualTo(5);
    assertThat(webhook.getAdmissionReviewVersions()).containsExactly("v1");
    assertThat(webhook.getReinvocationPolicy()).isEqualTo("IfNeeded");
    assertThat(webhook.getObjectSelector().getMatchLabels())
        .isEqualTo(Map.of("keywarden.io/inject", "true"));
    assertThat(webhook.getNamespaceSelector().getMatchExpressions())
        .containsExactly(
            new LabelSelectorRequirement(
                "kubernetes.io/metadata.name",
                "NotIn",
                List.of("kube-system", "keywarden-system")));
    assertThat(webhook.getRules())
        .singleElement()
        .satisfies(
            rule -> {
              assertThat(rule.getOperations()).containsExactly("CREATE");
              assertThat(rule.getResources()).containsExactly("pods");
            });
    assertThat(webhook.getClientConfig().getService().getPath()).isEqualTo(PodMutatingWebhook.PATH);
  }
}
