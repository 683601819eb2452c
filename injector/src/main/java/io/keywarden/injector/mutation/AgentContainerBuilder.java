package io.keywarden.injector.mutation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.keywarden.injector.InjectionConfig;
import io.keywarden.injector.config.AgentSettings;
import java.util.List;

/** Builds the agent container in its three shapes; all share one base so they never drift apart. */
public final class AgentContainerBuilder {

  /**
   * The long-running agent, native or classic sidecar; also how the injector recognises its own
   * pods.
   */
  public static final String AGENT = "keywarden-agent";

  /** The one-shot agent that writes the first files on clusters without native sidecars. */
  public static final String AGENT_INIT = "keywarden-agent-init";

  /**
   * The launcher in the agent image (agent/bin/keywarden-agent: JVM flags, AppCDS archive), named
   * in the pod rather than left to the image's entrypoint, so the stored pod says what runs.
   */
  public static final String AGENT_COMMAND = "/opt/keywarden/bin/keywarden-agent";

  /**
   * Non-root UID of distroless images, so the agent never needs a root user; the agent runs as the
   * app's own user instead when the app's is known (see {@link AgentIdentity}).
   */
  public static final long AGENT_UID = 65532;

  private final AgentSettings settings;
  private final InjectionConfig config;
  private final AgentIdentity identity;

  AgentContainerBuilder(AgentSettings settings, InjectionConfig config, AgentIdentity identity) {
    this.settings = settings;
    this.config = config;
    this.identity = identity;
  }

  /**
   * Init container with restartPolicy Always (Kubernetes 1.29+, KEP-753): it keeps running, and
   * kubelet starts the next containers only once its startup probe passed, so apps start with the
   * files in place.
   */
  public Container nativeSidecar() {
    return base(AGENT, false).withRestartPolicy("Always").withStartupProbe(startupProbe()).build();
  }

  /** Classic sidecar for older clusters; the first files come from {@link #oneShotInit()}. */
  public Container classicSidecar() {
    return base(AGENT, false).withStartupProbe(startupProbe()).build();
  }

  /** Plain init container, which may have no probes: it exits once the files are written. */
  public Container oneShotInit() {
    return base(AGENT_INIT, true).build();
  }

  private ContainerBuilder base(String name, boolean oneShot) {
    ContainerBuilder builder =
        new ContainerBuilder()
            .withName(name)
            .withImage(settings.image())
            .withCommand(AGENT_COMMAND)
            .withEnv(AgentEnvironment.of(settings, config, oneShot))
            .withVolumeMounts(
                Volumes.agentSecretsMount(config.mountPath()),
                Volumes.agentTokenMount(),
                Volumes.agentApiTokenPlaceholder());
    if (AwsAppEnvironment.writesCa(settings, config.aws())) {
      builder.addToVolumeMounts(Volumes.agentAwsMount());
    }
    return builder
        .withNewResources()
        .addToRequests("cpu", new Quantity("10m"))
        // The agent is resident at about 46 MB (docs/benchmarks.md); the request says what it uses.
        .addToRequests("memory", new Quantity("48Mi"))
        .addToLimits("memory", new Quantity("64Mi"))
        .endResources()
        // Meets the Pod Security Standards "restricted" profile, so opted-in pods stay admissible
        // everywhere.
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(identity.runAsUser())
        .withRunAsGroup(identity.runAsGroup().orElse(null))
        .withReadOnlyRootFilesystem(true)
        .withAllowPrivilegeEscalation(false)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext();
  }

  /**
   * ..data is the symlink the agent swaps last (kubelet's atomic writer), so it exists only once
   * all files do.
   */
  private Probe startupProbe() {
    return new ProbeBuilder()
        .withNewExec()
        .withCommand(List.of("test", "-e", config.mountPath() + "/..data"))
        .endExec()
        .withPeriodSeconds(1)
        .withFailureThreshold(120)
        .build();
  }
}
