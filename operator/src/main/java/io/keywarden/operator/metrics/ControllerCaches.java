package io.keywarden.operator.metrics;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.processing.Controller;
import java.util.stream.Stream;

/**
 * The primary resources a controller's informer holds. The Java Operator SDK starts the informers
 * on every replica (only event processing waits for leadership), so this answers on standby
 * replicas too, without a watch of its own.
 */
public final class ControllerCaches {

  private ControllerCaches() {}

  /**
   * @throws IllegalStateException when no such controller is registered (yet)
   */
  @SuppressWarnings("unchecked")
  public static <P extends HasMetadata> Stream<P> primaries(
      Operator operator, String controllerName, Class<P> type) {
    var registered =
        operator
            .getRegisteredController(controllerName)
            .orElseThrow(
                () ->
                    new IllegalStateException("controller " + controllerName + " not registered"));
    return ((Controller<P>) registered)
        .getEventSourceManager()
        .getControllerEventSource()
        .list(type::isInstance);
  }
}
