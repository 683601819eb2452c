package io.keywarden.injector.mutation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.keywarden.contract.OnChange;
import io.keywarden.injector.Annotations;
import io.keywarden.injector.InjectionConfig;
import io.keywarden.injector.InvalidAnnotationException;
import io.keywarden.injector.config.AgentSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns an opted-in pod and its parsed {@link InjectionConfig} into the mutated pod; the webhook
 * framework diffs the two into the JSONPatch.
 *
 * <p>Idempotent by construction: every owned element is put by name and kept when the stored one
 * already matches, and elements of the other sidecar mode are removed. So a pod the injector
 * already mutated (admission reinvocation, or a pod re-created from a stored spec) comes out
 * unchanged.
 */
public final class PodInjector {

  private final AgentSettings settings;

  public PodInjector(AgentSettings settings) {
    this.settings = settings;
  }

  /**
   * Mutates {@code pod} in place and returns it; throws {@link InvalidAnnotationException} to deny.
   */
  public Pod inject(Pod pod, InjectionConfig config) {
    PodSpec spec = pod.getSpec();
    ensureLists(spec);
    List<Container> selected = ContainerSelection.selected(spec, config);
    checkMountPath(config.mountPath(), selected);
    Set<String> selectedNames =
        selected.stream().map(Container::getName).collect(Collectors.toSet());

    boolean awsCa = AwsAppEnvironment.writesCa(settings, config.aws());
    // keywarden.io/aws-sdk's direct route needs the agent too, for its credentials relay.
    boolean agentNeeded =
        !config.files().isEmpty()
            || config.aws().endpoint()
            || AwsAppEnvironment.relaysCredentials(config.aws());
    if (agentNeeded) {
      NamedElements.put(spec.getVolumes(), Volumes.secrets(), Volume::getName, false);
    }
    NamedElements.put(spec.getVolumes(), Volumes.token(), Volume::getName, false);
    if (awsCa) {
      NamedElements.put(spec.getVolumes(), Volumes.aws(), Volume::getName, false);
    }
    List<EnvVar> awsVariables = AwsAppEnvironment.variables(settings, config.aws());
    checkAwsMounts(config, awsCa, selected);
    for (Container container : selected) {
      AwsAppEnvironment.check(container, awsVariables, config.aws());
    }
    if (agentNeeded) {
      putAgent(
          spec,
          new AgentContainerBuilder(
              settings, config, AgentIdentity.decide(spec, selected, config)));
    }
    for (Container container : ContainerSelection.podContainers(spec)) {
      if (container.getVolumeMounts() == null) {
        container.setVolumeMounts(new ArrayList<>());
      }
      if (selectedNames.contains(container.getName())) {
        if (agentNeeded) {
          NamedElements.put(
              container.getVolumeMounts(),
              Volumes.appSecretsMount(config.mountPath()),
              VolumeMount::getName,
              false);
        }
        if (config.aws().any()) {
          NamedElements.put(
              container.getVolumeMounts(), Volumes.appTokenMount(), VolumeMount::getName, false);
        }
        if (awsCa) {
          NamedElements.put(
              container.getVolumeMounts(), Volumes.appAwsMount(), VolumeMount::getName, false);
        }
        AwsAppEnvironment.apply(container, awsVariables);
      } else {
        NamedElements.remove(container.getVolumeMounts(), Volumes.SECRETS, VolumeMount::getName);
      }
    }
    if (config.onChange().filter(OnChange.SendSignal.class::isInstance).isPresent()) {
      // The agent can only signal the app's processes when it sees them. Never reset: the user may
      // want it.
      spec.setShareProcessNamespace(true);
    }
    return pod;
  }

  private void putAgent(PodSpec spec, AgentContainerBuilder agent) {
    if (settings.nativeSidecars()) {
      // First, so that the app's own init containers also start after the files exist.
      NamedElements.put(spec.getInitContainers(), agent.nativeSidecar(), Container::getName, true);
      NamedElements.remove(
          spec.getInitContainers(), AgentContainerBuilder.AGENT_INIT, Container::getName);
      NamedElements.remove(spec.getContainers(), AgentContainerBuilder.AGENT, Container::getName);
    } else {
      NamedElements.put(spec.getInitContainers(), agent.oneShotInit(), Container::getName, true);
      NamedElements.remove(
          spec.getInitContainers(), AgentContainerBuilder.AGENT, Container::getName);
      // Last, so that tools defaulting to the first container (kubectl logs, exec) keep finding the
      // app.
      NamedElements.put(spec.getContainers(), agent.classicSidecar(), Container::getName, false);
    }
  }

  /**
   * The warnings of the pod's admission: the AWS settings its containers keep instead of
   * Keywarden's (the same checks as {@link #inject}, which denies the other clashes).
   */
  public List<String> warnings(Pod pod, InjectionConfig config) {
    PodSpec spec = pod.getSpec();
    ensureLists(spec);
    List<EnvVar> awsVariables = AwsAppEnvironment.variables(settings, config.aws());
    List<String> warnings = new ArrayList<>();
    for (Container container : ContainerSelection.selected(spec, config)) {
      warnings.addAll(AwsAppEnvironment.check(container, awsVariables, config.aws()));
    }
    return warnings;
  }

  /**
   * The token and CA directories an AWS route mounts into the app containers must be free there.
   */
  private static void checkAwsMounts(
      InjectionConfig config, boolean awsCa, List<Container> selected) {
    List<String> dirs = new ArrayList<>();
    if (config.aws().any()) {
      dirs.add(Volumes.TOKEN_DIR);
    }
    if (awsCa) {
      dirs.add(Volumes.AWS_DIR);
    }
    for (Container container : selected) {
      if (container.getVolumeMounts() == null) {
        continue;
      }
      for (VolumeMount mount : container.getVolumeMounts()) {
        for (String dir : dirs) {
          boolean ours =
              mount.getName().equals(Volumes.TOKEN) || mount.getName().equals(Volumes.AWS);
          if (!ours && overlaps(dir, mount.getMountPath())) {
            throw new InvalidAnnotationException(
                config.aws().sdk() ? Annotations.AWS_SDK : Annotations.AWS_ENDPOINT,
                "container '"
                    + container.getName()
                    + "' already mounts volume '"
                    + mount.getName()
                    + "' at '"
                    + mount.getMountPath()
                    + "', where Keywarden mounts "
                    + dir);
          }
        }
      }
    }
  }

  /**
   * Deny here what the apiserver would otherwise reject with a message that names no annotation:
   * two mounts at one path, or a mount path overlapping the agent's token directory.
   */
  static void checkMountPath(String mountPath, List<Container> selected) {
    for (String agentDir : List.of(Volumes.TOKEN_DIR, Volumes.API_TOKEN_DIR, Volumes.AWS_DIR)) {
      if (overlaps(mountPath, agentDir)) {
        throw new InvalidAnnotationException(
            Annotations.MOUNT_PATH,
            "mount path '"
                + mountPath
                + "' overlaps the agent's token directory "
                + agentDir
                + "; choose another directory");
      }
    }
    for (Container container : selected) {
      if (container.getVolumeMounts() == null) {
        continue;
      }
      for (VolumeMount mount : container.getVolumeMounts()) {
        if (mountPath.equals(mount.getMountPath()) && !Volumes.SECRETS.equals(mount.getName())) {
          throw new InvalidAnnotationException(
              Annotations.MOUNT_PATH,
              "container '"
                  + container.getName()
                  + "' already mounts volume '"
                  + mount.getName()
                  + "' at '"
                  + mountPath
                  + "'; choose another directory");
        }
      }
    }
  }

  private static boolean overlaps(String a, String b) {
    return a.equals(b) || a.startsWith(b + "/") || b.startsWith(a + "/");
  }

  static void ensureLists(PodSpec spec) {
    if (spec.getVolumes() == null) {
      spec.setVolumes(new ArrayList<>());
    }
    if (spec.getInitContainers() == null) {
      spec.setInitContainers(new ArrayList<>());
    }
    if (spec.getContainers() == null) {
      spec.setContainers(new ArrayList<>());
    }
  }
}
