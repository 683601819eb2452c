package io.keywarden.injector.mutation;

import static io.keywarden.injector.mutation.TestPods.asStored;
import static io.keywarden.injector.mutation.TestPods.copy;
import static io.keywarden.injector.mutation.TestPods.pod;
import static io.keywarden.injector.mutation.TestPods.withInitContainer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.zjsonpatch.JsonDiff;
import io.keywarden.injector.InjectionConfigParser;
import io.keywarden.injector.InvalidAnnotationException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** csi mode's pod: the inline volume and read-only mounts, nothing else. */
class CsiVolumeInjectorTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PATH = "/var/run/secrets/keywarden";
  private static final Map<String, String> CSI =
      Map.of(
          "keywarden.io/mode", "csi",
          "keywarden.io/secret.password", "db",
          "keywarden.io/key.password", "password",
          "keywarden.io/file-mode", "0440");

  @Test
  void theVolumeIsTheNodePluginsReadOnlyInlineVolumeWithTheAnnotationsAsAttributes() {
    Pod pod = inject(pod(CSI, "app"));

    assertThat(pod.getSpec().getVolumes())
        .extracting(Volume::getName)
        .containsExactly("keywarden-secrets");
    var csi = pod.getSpec().getVolumes().get(0).getCsi();
    assertThat(csi.getDriver()).isEqualTo("csi.keywarden.io");
    assertThat(csi.getReadOnly()).isTrue();
    assertThat(csi.getVolumeAttributes())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "secret.password", "db",
                "key.password", "password",
                "format.password", "raw",
                "stage.password", "CURRENT",
                "file-mode", "0440",
                "refresh", "watch"));
    assertThat(csi.getNodePublishSecretRef()).isNull();
    assertThat(csi.getFsType()).isNull();
  }

  @Test
  void noAgentNoTokenVolumeNoSharedProcessNamespace() {
    Pod pod = inject(pod(CSI, "app", "worker"));

    assertThat(pod.getSpec().getInitContainers()).isEmpty();
    assertThat(pod.getSpec().getContainers())
        .extracting(Container::getName)
        .containsExactly("app", "worker");
    assertThat(pod.getSpec().getVolumes())
        .extracting(Volume::getName)
        .doesNotContain("keywarden-token", "keywarden-aws");
    assertThat(pod.getSpec().getShareProcessNamespace()).isNull();
    for (Container app : pod.getSpec().getContainers()) {
      assertThat(app.getVolumeMounts()).containsExactly(mount("keywarden-secrets", PATH, true));
      assertThat(app.getEnv()).isNullOrEmpty();
    }
  }

  @Test
  void theMountPathAndTheContainersAreTheSidecarModes() {
    Pod pod =
        inject(
            withInitContainer(
                pod(
                    with(
                        with(CSI, "keywarden.io/mount-path", "/etc/app/secrets"),
                        "keywarden.io/containers",
                        "migrate,worker"),
                    "app",
                    "worker"),
                "migrate"));

    assertThat(container(pod, "app").getVolumeMounts()).isEmpty();
    assertThat(container(pod, "worker").getVolumeMounts())
        .containsExactly(mount("keywarden-secrets", "/etc/app/secrets", true));
    assertThat(container(pod, "migrate").getVolumeMounts())
        .containsExactly(mount("keywarden-secrets", "/etc/app/secrets", true));
  }

  @Test
  void theStoredPodAndAReinvocationComeOutUnchanged() {
    Pod once = inject(pod(CSI, "app"));
    Pod stored = asStored(once);

    Pod again = inject(copy(stored));

    assertThat(JsonDiff.asJson(JSON.valueToTree(stored), JSON.valueToTree(again))).isEmpty();
  }

  @Test
  void aContainerAddedByALaterWebhookGetsItsMountOnReinvocation() {
    Pod stored = asStored(inject(pod(CSI, "app")));
    stored.getSpec().getContainers().add(TestPods.container("mesh"));

    Pod again = inject(stored);

    assertThat(container(again, "mesh").getVolumeMounts())
        .containsExactly(mount("keywarden-secrets", PATH, true));
    assertThat(again.getSpec().getVolumes())
        .filteredOn(v -> v.getName().equals("keywarden-secrets"))
        .hasSize(1);
  }

  @Test
  void theUsersOwnVolumeOfThatNameIsNeverOverwritten() {
    Pod pod = pod(CSI, "app");
    pod.getSpec()
        .getVolumes()
        .add(
            new VolumeBuilder()
                .withName("keywarden-secrets")
                .withNewEmptyDir()
                .endEmptyDir()
                .build());
    Pod before = copy(pod);

    assertThatThrownBy(() -> inject(pod))
        .isInstanceOf(InvalidAnnotationException.class)
        .hasMessage(
            "annotation keywarden.io/mode: the pod already has a volume 'keywarden-secrets' that is"
                + " not the csi.keywarden.io volume the annotations describe; csi mode adds it and"
                + " never overwrites a pod's own: rename or remove yours");
    assertThat((Object) JSON.valueToTree(pod)).isEqualTo(JSON.valueToTree(before));
  }

  @Test
  void aStoredVolumeWhoseAttributesNoLongerMatchTheAnnotationsIsReportedNotRewritten() {
    Pod stored = asStored(inject(pod(CSI, "app")));
    stored.getMetadata().getAnnotations().put("keywarden.io/file-mode", "0444");

    assertThatThrownBy(() -> inject(stored))
        .hasMessageStartingWith("annotation keywarden.io/mode: the pod already has a volume");
  }

  @Test
  void theUsersOwnMountOfThatNameIsNeverOverwritten() {
    Pod pod = pod(CSI, "app");
    pod.getSpec()
        .getContainers()
        .get(0)
        .getVolumeMounts()
        .add(mount("keywarden-secrets", "/data", null));

    assertThatThrownBy(() -> inject(pod))
        .hasMessage(
            "annotation keywarden.io/mode: container 'app' already mounts volume 'keywarden-secrets'"
                + " other than read-only at /var/run/secrets/keywarden; csi mode adds it and never"
                + " overwrites a pod's own: rename or remove yours");
  }

  @Test
  void aMountOfThatNameInAContainerNotListedIsReported() {
    Pod pod = pod(with(CSI, "keywarden.io/containers", "app"), "app", "sidecar");
    pod.getSpec()
        .getContainers()
        .get(1)
        .getVolumeMounts()
        .add(mount("keywarden-secrets", PATH, true));

    assertThatThrownBy(() -> inject(pod))
        .hasMessage(
            "annotation keywarden.io/containers: container 'sidecar' mounts volume"
                + " 'keywarden-secrets' but is not one of the containers listed; list it or remove"
                + " its mount");
  }

  @Test
  void anotherVolumeAtTheMountPathIsReportedAsInSidecarMode() {
    Pod pod = pod(CSI, "app");
    pod.getSpec().getContainers().get(0).getVolumeMounts().add(mount("config", PATH, true));

    assertThatThrownBy(() -> inject(pod))
        .hasMessage(
            "annotation keywarden.io/mount-path: container 'app' already mounts volume 'config' at '"
                + PATH
                + "'; choose another directory");
  }

  @Test
  void theDriverNameIsTheConfiguredOne() {
    Pod pod = pod(CSI, "app");
    new CsiVolumeInjector("secrets.example.com")
        .inject(pod, InjectionConfigParser.parse(pod.getMetadata().getAnnotations()));

    assertThat(pod.getSpec().getVolumes().get(0).getCsi().getDriver())
        .isEqualTo("secrets.example.com");
  }

  private static Pod inject(Pod pod) {
    return new CsiVolumeInjector(CsiVolume.DEFAULT_DRIVER)
        .inject(pod, InjectionConfigParser.parse(pod.getMetadata().getAnnotations()));
  }

  private static Map<String, String> with(Map<String, String> base, String key, String value) {
    Map<String, String> annotations = new HashMap<>(base);
    annotations.put(key, value);
    return annotations;
  }

  private static Container container(Pod pod, String name) {
    return java.util.stream.Stream.concat(
            pod.getSpec().getInitContainers().stream(), pod.getSpec().getContainers().stream())
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private static VolumeMount mount(String name, String path, Boolean readOnly) {
    return new VolumeMountBuilder()
        .withName(name)
        .withMountPath(path)
        .withReadOnly(readOnly)
        .build();
  }
}
