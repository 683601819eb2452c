package io.keywarden.injector.webhook;

import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.webhook.admission.NotAllowedException;
import io.javaoperatorsdk.webhook.admission.Operation;
import io.javaoperatorsdk.webhook.admission.mutation.Mutator;
import io.keywarden.injector.Annotations;
import io.keywarden.injector.InjectionConfig;
import io.keywarden.injector.InjectionConfigParser;
import io.keywarden.injector.InjectionMode;
import io.keywarden.injector.InvalidAnnotationException;
import io.keywarden.injector.apica.ApiCaUnavailableException;
import io.keywarden.injector.config.AgentSettings;
import io.keywarden.injector.mutation.CsiVolume;
import io.keywarden.injector.mutation.CsiVolumeInjector;
import io.keywarden.injector.mutation.PodInjector;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Decides whether a pod is ours, parses its annotations and injects in the pod's mode (the agent
 * sidecar, or the CSI node plugin's inline volume); a bad annotation becomes a denial whose message
 * is the {@link InvalidAnnotationException} message, naming the annotation. A sidecar-mode pod is
 * also denied while the API CA is unavailable: its agent could not fetch anything. A csi-mode pod
 * needs no CA (the node plugin has its own), so it does not wait for one.
 */
public final class PodMutator implements Mutator<Pod> {

  private final Supplier<AgentSettings> settings;
  private final Set<String> untouchedNamespaces;
  private final InjectionMode defaultMode;
  private final CsiVolumeInjector csi;

  /** Sidecar mode by default, csi mode with the default driver name. */
  public PodMutator(Supplier<AgentSettings> settings, Set<String> untouchedNamespaces) {
    this(
        settings,
        untouchedNamespaces,
        InjectionMode.SIDECAR,
        new CsiVolumeInjector(CsiVolume.DEFAULT_DRIVER));
  }

  /**
   * @param untouchedNamespaces kube-system, the operator's and the injector's own namespace: a
   *     labelled pod there must never depend on the injector (the injector could not start itself)
   * @param settings the agent settings as of now, asked once per admission; may throw {@link
   *     ApiCaUnavailableException}
   * @param defaultMode the mode of a pod without keywarden.io/mode
   * @param csi the csi mode's injector
   */
  public PodMutator(
      Supplier<AgentSettings> settings,
      Set<String> untouchedNamespaces,
      InjectionMode defaultMode,
      CsiVolumeInjector csi) {
    this.settings = settings;
    this.untouchedNamespaces = Set.copyOf(untouchedNamespaces);
    this.defaultMode = defaultMode;
    this.csi = csi;
  }

  @Override
  public Pod mutate(Pod pod, Operation operation) throws NotAllowedException {
    if (operation != Operation.CREATE
        || !optedIn(pod)
        || untouchedNamespaces.contains(pod.getMetadata().getNamespace())) {
      return pod;
    }
    try {
      Map<String, String> annotations =
          Optional.ofNullable(pod.getMetadata().getAnnotations()).orElse(Map.of());
      InjectionConfig config = InjectionConfigParser.parse(annotations, defaultMode);
      if (config.mode() == InjectionMode.CSI) {
        return csi.inject(pod, config);
      }
      return new PodInjector(settings.get()).inject(pod, config);
    } catch (InvalidAnnotationException | ApiCaUnavailableException e) {
      throw new NotAllowedException(e.getMessage());
    }
  }

  /**
   * The admission warnings for a pod {@link #mutate} admits: the AWS settings its containers keep
   * instead of Keywarden's. Empty for any pod that is not ours or is denied.
   */
  public List<String> warnings(Pod pod, Operation operation) {
    if (operation != Operation.CREATE
        || !optedIn(pod)
        || untouchedNamespaces.contains(pod.getMetadata().getNamespace())) {
      return List.of();
    }
    try {
      Map<String, String> annotations =
          Optional.ofNullable(pod.getMetadata().getAnnotations()).orElse(Map.of());
      InjectionConfig config = InjectionConfigParser.parse(annotations, defaultMode);
      if (config.mode() == InjectionMode.CSI) {
        return List.of();
      }
      return new PodInjector(settings.get()).warnings(pod, config);
    } catch (InvalidAnnotationException | ApiCaUnavailableException e) {
      return List.of();
    }
  }

  /**
   * The webhook's objectSelector already filters on the label; checked again for a misconfigured
   * webhook.
   */
  private static boolean optedIn(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return labels != null
        && Annotations.INJECT_ENABLED.equals(labels.get(Annotations.INJECT_LABEL));
  }
}
