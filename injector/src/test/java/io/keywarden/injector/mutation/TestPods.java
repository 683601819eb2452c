package io.keywarden.injector.mutation;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.keywarden.injector.config.AgentSettings;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** Pods and settings for the mutation tests. */
public final class TestPods {

  public static final AgentSettings NATIVE =
      new AgentSettings(
          "ghcr.io/keywarden/agent:0.1.0",
          "https://keywarden-operator.keywarden-system.svc:8443",
          Optional.empty(),
          true);
  public static final AgentSettings CLASSIC =
      new AgentSettings(
          "ghcr.io/keywarden/agent:0.1.0",
          "https://keywarden-operator.keywarden-system.svc:8443",
          Optional.empty(),
          false);
  public static final AgentSettings WITH_CA =
      new AgentSettings(
          "registry.example/agent:1",
          "https://api.example:8443",
          Optional.of("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
          true);

  private static final ObjectMapper JSON = new ObjectMapper();

  private TestPods() {}

  /** A labelled pod in namespace "apps" with the given annotations and app containers. */
  public static Pod pod(Map<String, String> annotations, String... containers) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("web")
        .withNamespace("apps")
        .addToLabels("keywarden.io/inject", "true")
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .withContainers(Stream.of(containers).map(TestPods::container).toList())
        .endSpec()
        .build();
  }

  /**
   * The pod with {@code spec.securityContext.runAsUser}, which owner-only modes and signals need.
   */
  public static Pod asUser(Pod pod, long uid) {
    pod.getSpec()
        .setSecurityContext(
            new io.fabric8.kubernetes.api.model.PodSecurityContextBuilder()
                .withRunAsUser(uid)
                .build());
    return pod;
  }

  public static Pod withInitContainer(Pod pod, String name) {
    pod.getSpec().getInitContainers().add(container(name));
    return pod;
  }

  public static Container container(String name) {
    return new ContainerBuilder().withName(name).withImage("example/" + name + ":1").build();
  }

  public static Pod copy(Pod pod) {
    return JSON.convertValue(pod, Pod.class);
  }

  /**
   * The pod as the apiserver stores it: defaults filled in and the ServiceAccount admission
   * plugin's token volume appended, mounted into every container that mounts nothing at the token's
   * path.
   */
  public static Pod asStored(Pod pod) {
    Pod stored = copy(pod);
    String tokenVolume = "kube-api-access-x7k2p";
    for (Container container :
        Stream.concat(
                stored.getSpec().getInitContainers().stream(),
                stored.getSpec().getContainers().stream())
            .toList()) {
      container.setTerminationMessagePath("/dev/termination-log");
      container.setTerminationMessagePolicy("File");
      container.setImagePullPolicy("IfNotPresent");
      boolean hasTokenPath =
          container.getVolumeMounts().stream()
              .anyMatch(m -> m.getMountPath().equals(Volumes.API_TOKEN_DIR));
      if (!hasTokenPath) {
        container
            .getVolumeMounts()
            .add(
                new VolumeMountBuilder()
                    .withName(tokenVolume)
                    .withMountPath("/var/run/secrets/kubernetes.io/serviceaccount")
                    .withReadOnly(true)
                    .build());
      }
      if (container.getStartupProbe() != null) {
        container.getStartupProbe().setTimeoutSeconds(1);
        container.getStartupProbe().setSuccessThreshold(1);
      }
    }
    for (Volume volume : stored.getSpec().getVolumes()) {
      if (volume.getProjected() != null) {
        volume.getProjected().setDefaultMode(420);
      }
    }
    stored
        .getSpec()
        .getVolumes()
        .add(
            new VolumeBuilder()
                .withName(tokenVolume)
                .withNewProjected()
                .withDefaultMode(420)
                .addNewSource()
                .withNewServiceAccountToken()
                .withExpirationSeconds(3607L)
                .withPath("token")
                .endServiceAccountToken()
                .endSource()
                .endProjected()
                .build());
    stored.getSpec().setRestartPolicy("Always");
    stored.getSpec().setDnsPolicy("ClusterFirst");
    return stored;
  }

  public static List<String> names(List<Container> containers) {
    return containers.stream().map(Container::getName).toList();
  }
}
