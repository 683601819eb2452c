package io.keywarden.operator.kube;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.UUID;
import org.jboss.logging.Logger;

/** Kubernetes Events on Keywarden resources. Messages never carry values. */
@ApplicationScoped
public class EventRecorder {

  private static final Logger LOG = Logger.getLogger(EventRecorder.class);
  private final KubernetesClient client;

  public EventRecorder(KubernetesClient client) {
    this.client = client;
  }

  public void normal(HasMetadata object, String reason, String message) {
    record(object, "Normal", reason, message);
  }

  public void warning(HasMetadata object, String reason, String message) {
    record(object, "Warning", reason, message);
  }

  private void record(HasMetadata object, String type, String reason, String message) {
    String now = Instant.now().toString();
    try {
      client
          .v1()
          .events()
          .inNamespace(object.getMetadata().getNamespace())
          .resource(
              new EventBuilder()
                  .withNewMetadata()
                  .withName(
                      object.getMetadata().getName()
                          + "."
                          + UUID.randomUUID().toString().substring(0, 8))
                  .endMetadata()
                  .withNewInvolvedObject()
                  .withApiVersion(object.getApiVersion())
                  .withKind(object.getKind())
                  .withName(object.getMetadata().getName())
                  .withNamespace(object.getMetadata().getNamespace())
                  .withUid(object.getMetadata().getUid())
                  .withResourceVersion(object.getMetadata().getResourceVersion())
                  .endInvolvedObject()
                  .withType(type)
                  .withReason(reason)
                  .withMessage(message)
                  .withFirstTimestamp(now)
                  .withLastTimestamp(now)
                  .withCount(1)
                  .withNewSource()
                  .withComponent("keywarden-operator")
                  .withHost(hostname())
                  .endSource()
                  .build())
          .create();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 403 && String.valueOf(e.getMessage()).contains("being terminated")) {
        return; // the namespace and its Events are going away
      }
      // Events are best effort; a failure to record one must not fail the reconciliation.
      LOG.warnf(
          "cannot record event %s on %s: %s",
          reason, object.getMetadata().getName(), e.getMessage());
    }
  }

  private static String hostname() {
    String host = System.getenv("HOSTNAME");
    return host == null ? "local" : host;
  }
}
