package io.keywarden.injector.mutation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.keywarden.injector.Annotations;
import io.keywarden.injector.InjectionConfig;
import io.keywarden.injector.InvalidAnnotationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Which of the pod's own containers mount the files: every app container by default, or those named
 * in keywarden.io/containers, which may also name init containers (the native sidecar starts first,
 * so they see the files too).
 */
final class ContainerSelection {

  private static final Set<String> OURS =
      Set.of(AgentContainerBuilder.AGENT, AgentContainerBuilder.AGENT_INIT);

  private ContainerSelection() {}

  /** Every container of the pod that is not the agent, init containers first. */
  static List<Container> podContainers(PodSpec spec) {
    return Stream.concat(spec.getInitContainers().stream(), spec.getContainers().stream())
        .filter(container -> !OURS.contains(container.getName()))
        .toList();
  }

  static List<Container> selected(PodSpec spec, InjectionConfig config) {
    if (config.containers().isEmpty()) {
      return spec.getContainers().stream()
          .filter(container -> !OURS.contains(container.getName()))
          .toList();
    }
    List<Container> candidates = podContainers(spec);
    List<Container> selected = new ArrayList<>();
    for (String name : config.containers()) {
      Container container =
          candidates.stream()
              .filter(c -> name.equals(c.getName()))
              .findFirst()
              .orElseThrow(
                  () ->
                      new InvalidAnnotationException(
                          Annotations.CONTAINERS,
                          "the pod has no container '"
                              + name
                              + "' (its containers: "
                              + String.join(
                                  ", ", candidates.stream().map(Container::getName).toList())
                              + ")"));
      selected.add(container);
    }
    return selected;
  }
}
