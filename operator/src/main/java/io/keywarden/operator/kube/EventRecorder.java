package io.keywarden.operator.kube;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.commons.lang3.concurrent.BasicThreadFactory;
import org.jboss.logging.Logger;

/**
 * Kubernetes Events on Keywarden resources. Messages never carry values.
 *
 * <p>Events are best effort and sent by one thread of their own, in the order they were recorded,
 * like client-go's event broadcaster: a reconciliation or a rotation never waits for an Event's
 * round trip to the API server (a rotation recorded "started" before it stored the new value). When
 * {@value #QUEUE} Events wait, more are dropped and counted in {@code
 * keywarden_events_dropped_total}; at shutdown the queue gets {@value #DRAIN_SECONDS} s to drain.
 */
@ApplicationScoped
public class EventRecorder {

  private static final Logger LOG = Logger.getLogger(EventRecorder.class);
  private static final int QUEUE = 4096;
  private static final int DRAIN_SECONDS = 5;

  private final KubernetesClient client;
  private final Counter dropped;
  private final ThreadPoolExecutor sender;

  public EventRecorder(KubernetesClient client, MeterRegistry registry) {
    this.client = client;
    this.dropped =
        Counter.builder("keywarden.events.dropped")
            .description("Kubernetes Events not sent because too many were waiting")
            .register(registry);
    this.sender =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(QUEUE),
            BasicThreadFactory.builder().namingPattern("keywarden-events").daemon(true).build(),
            (task, executor) -> dropped.increment());
  }

  public void normal(HasMetadata object, String reason, String message) {
    record(object, "Normal", reason, message);
  }

  public void warning(HasMetadata object, String reason, String message) {
    record(object, "Warning", reason, message);
  }

  @PreDestroy
  void drain() {
    sender.shutdown();
    try {
      if (!sender.awaitTermination(DRAIN_SECONDS, TimeUnit.SECONDS)) {
        LOG.warnf("%d events not sent at shutdown", sender.getQueue().size());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void record(HasMetadata object, String type, String reason, String message) {
    String now = Instant.now().toString();
    // Built now, from the object as it is now (its resourceVersion), and sent later.
    Event event =
        new EventBuilder()
            .withNewMetadata()
            .withNamespace(object.getMetadata().getNamespace())
            .withName(
                object.getMetadata().getName() + "." + UUID.randomUUID().toString().substring(0, 8))
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
            .build();
    // Full queue or shutting down: the rejection handler counts it as dropped.
    sender.execute(() -> send(event, reason, object.getMetadata().getName()));
  }

  private void send(Event event, String reason, String objectName) {
    try {
      client.v1().events().inNamespace(event.getMetadata().getNamespace()).resource(event).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 403 && String.valueOf(e.getMessage()).contains("being terminated")) {
        return; // the namespace and its Events are going away
      }
      // Events are best effort; a failure to record one must not fail the reconciliation.
      LOG.warnf("cannot record event %s on %s: %s", reason, objectName, e.getMessage());
    }
  }

  private static String hostname() {
    String host = System.getenv("HOSTNAME");
    return host == null ? "local" : host;
  }
}
