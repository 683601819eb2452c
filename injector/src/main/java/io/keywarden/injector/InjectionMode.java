package io.keywarden.injector;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * How a pod gets its files ({@link Annotations#MODE}): an agent sidecar in the pod, or an inline
 * volume of the Keywarden CSI node plugin, which writes the files from outside the pod.
 */
public enum InjectionMode {
  /** The agent as a (native) sidecar: one process per pod, with on-change and the AWS routes. */
  SIDECAR,
  /**
   * An inline {@code csi.keywarden.io} volume: one plugin process per node, no process in the pod.
   */
  CSI;

  /** The annotation's spelling: {@code sidecar}, {@code csi}. */
  public String annotationValue() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Exactly {@code sidecar} or {@code csi}; the message names the allowed values. */
  static InjectionMode parse(String annotation, String value) {
    for (InjectionMode mode : values()) {
      if (mode.annotationValue().equals(value)) {
        return mode;
      }
    }
    throw new InvalidAnnotationException(
        annotation,
        "mode '"
            + (value.length() > 64 ? value.substring(0, 64) + "..." : value)
                .replaceAll("\\p{Cntrl}", "?")
            + "' must be "
            + Arrays.stream(values())
                .map(InjectionMode::annotationValue)
                .collect(Collectors.joining(" or ")));
  }
}
