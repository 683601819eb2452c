package io.keywarden.injector.mutation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.keywarden.injector.Annotations;
import io.keywarden.injector.InjectionConfig;
import io.keywarden.injector.InvalidAnnotationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * csi mode ({@code keywarden.io/mode: csi}): instead of the agent, the pod gets the inline volume
 * of the Keywarden CSI node plugin ({@link CsiVolume}) and read-only mounts of it at the mount path
 * in the selected containers, the same path the sidecar mode uses. Nothing else: no container, no
 * token volume, no shared process namespace.
 *
 * <p>Idempotent as {@link PodInjector}: an element that already matches is kept, so a reinvocation
 * or a pod re-created from its stored spec comes out unchanged, and a container added by a later
 * webhook gets its mount. An element of the same name that differs (the user's own volume or mount
 * called {@value Volumes#SECRETS}, a sidecar-mode pod's memory volume, attributes that no longer
 * match the annotations) is never overwritten: the pod is denied with a message naming it.
 */
public final class CsiVolumeInjector {

  private final String driver;

  /**
   * @param driver the CSIDriver object's name, {@link CsiVolume#DEFAULT_DRIVER} unless configured
   */
  public CsiVolumeInjector(String driver) {
    this.driver = driver;
  }

  /**
   * Mutates {@code pod} in place and returns it; throws {@link InvalidAnnotationException} to deny.
   */
  public Pod inject(Pod pod, InjectionConfig config) {
    PodSpec spec = pod.getSpec();
    PodInjector.ensureLists(spec);
    List<Container> selected = ContainerSelection.selected(spec, config);
    PodInjector.checkMountPath(config.mountPath(), selected);
    Set<String> selectedNames =
        selected.stream().map(Container::getName).collect(Collectors.toSet());

    putOrRefuse(
        spec.getVolumes(),
        CsiVolume.of(driver, config),
        Volume::getName,
        "the pod already has a volume '"
            + Volumes.SECRETS
            + "' that is not the "
            + driver
            + " volume the annotations describe");
    for (Container container : ContainerSelection.podContainers(spec)) {
      if (container.getVolumeMounts() == null) {
        container.setVolumeMounts(new ArrayList<>());
      }
      if (selectedNames.contains(container.getName())) {
        putOrRefuse(
            container.getVolumeMounts(),
            Volumes.appSecretsMount(config.mountPath()),
            VolumeMount::getName,
            "container '"
                + container.getName()
                + "' already mounts volume '"
                + Volumes.SECRETS
                + "' other than read-only at "
                + config.mountPath());
      } else if (container.getVolumeMounts().stream()
          .anyMatch(mount -> Volumes.SECRETS.equals(mount.getName()))) {
        throw new InvalidAnnotationException(
            Annotations.CONTAINERS,
            "container '"
                + container.getName()
                + "' mounts volume '"
                + Volumes.SECRETS
                + "' but is not one of the containers listed; list it or remove its mount");
      }
    }
    return pod;
  }

  /**
   * Adds {@code wanted}, keeps a stored element that already matches it, and denies the pod when an
   * element of that name differs: it is the user's, or it says something the annotations no longer
   * do, and Keywarden does not overwrite what it did not write.
   */
  private static <T> void putOrRefuse(
      List<T> list, T wanted, Function<T, String> name, String conflict) {
    String wantedName = name.apply(wanted);
    for (T element : list) {
      if (wantedName.equals(name.apply(element))) {
        if (!JsonSubset.covers(element, wanted)) {
          throw new InvalidAnnotationException(
              Annotations.MODE,
              conflict
                  + "; csi mode adds it and never overwrites a pod's own: rename or remove yours");
        }
        return;
      }
    }
    list.add(wanted);
  }
}
