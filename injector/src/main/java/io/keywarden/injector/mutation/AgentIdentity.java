package io.keywarden.injector.mutation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.keywarden.contract.FileMode;
import io.keywarden.contract.OnChange;
import io.keywarden.injector.Annotations;
import io.keywarden.injector.InjectionConfig;
import io.keywarden.injector.InvalidAnnotationException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The user and group the agent runs as, chosen so that the app containers can read the files and
 * receive the on-change signal; or a denial that says what to set (docs/injection.md, "File
 * ownership and signals").
 *
 * <ol>
 *   <li>When every container that mounts the files runs as one known non-root user (its own or the
 *       pod's {@code runAsUser}), the agent runs as that user, and with their common {@code
 *       runAsGroup} if they share one: the files are then the app's own, any owner-readable mode
 *       works, and a signal reaches the app (the kernel lets a process signal its own user's
 *       processes; the agent has no capabilities).
 *   <li>Otherwise the agent runs as {@link AgentContainerBuilder#AGENT_UID}, which can signal no
 *       app, so {@code signal:} is denied; and the files must be readable through the mode's other
 *       bits ({@code 0644}, the default), or through its group bits when the group is one the app
 *       has: the pod's {@code fsGroup} (kubelet makes the volume group-owned and setgid, so new
 *       files take that group) or, without one, the apps' common {@code runAsGroup}, which the
 *       agent then runs with. Any other mode is denied.
 * </ol>
 *
 * @param runAsGroup empty: the agent's group is left to the pod and image
 */
record AgentIdentity(long runAsUser, Optional<Long> runAsGroup) {

  AgentIdentity {
    Objects.requireNonNull(runAsGroup, "runAsGroup");
  }

  static final AgentIdentity DEFAULT =
      new AgentIdentity(AgentContainerBuilder.AGENT_UID, Optional.empty());

  static AgentIdentity decide(PodSpec spec, List<Container> readers, InjectionConfig config) {
    PodSecurityContext pod = spec.getSecurityContext();
    Optional<Long> user =
        common(readers, pod, SecurityContext::getRunAsUser, PodSecurityContext::getRunAsUser);
    Optional<Long> group =
        common(readers, pod, SecurityContext::getRunAsGroup, PodSecurityContext::getRunAsGroup);
    if (user.isPresent() && user.get() != 0) {
      return new AgentIdentity(user.get(), group);
    }
    String why = whyNotTheAppsUser(readers, pod);
    Optional<OnChange> onChange = config.onChange();
    if (onChange.isPresent() && onChange.get() instanceof OnChange.SendSignal) {
      throw new InvalidAnnotationException(
          Annotations.ON_CHANGE,
          OnChange.render(onChange.get())
              + " needs the agent to run as the app's user to signal it, but "
              + why
              + "; set a non-root spec.securityContext.runAsUser (or the same runAsUser on every"
              + " container that mounts the files), or use exec:<command>");
    }
    int mode = config.fileMode();
    if ((mode & 0004) != 0) {
      return DEFAULT;
    }
    Long fsGroup = pod == null ? null : pod.getFsGroup();
    if ((mode & 0040) != 0 && fsGroup != null) {
      return DEFAULT;
    }
    if ((mode & 0040) != 0 && group.isPresent()) {
      return new AgentIdentity(AgentContainerBuilder.AGENT_UID, group);
    }
    String readableBy = (mode & 0040) != 0 ? "only its owner and group" : "only its owner";
    throw new InvalidAnnotationException(
        Annotations.FILE_MODE,
        "file mode "
            + FileMode.render(mode)
            + " lets "
            + readableBy
            + " read a file, and the agent cannot write the files as the app's user or group: "
            + why
            + ((mode & 0040) != 0
                ? ", the pod sets no fsGroup and the containers share no runAsGroup"
                : "")
            + "; set a non-root spec.securityContext.runAsUser (or the same runAsUser on every"
            + " container that mounts the files), or set spec.securityContext.fsGroup with a"
            + " group-readable mode such as 0440, or leave the mode at 0644");
  }

  /** The value every reader has (its own, else the pod's), if they all have the same one. */
  private static Optional<Long> common(
      List<Container> readers,
      PodSecurityContext pod,
      Function<SecurityContext, Long> own,
      Function<PodSecurityContext, Long> podWide) {
    Set<Long> values = new LinkedHashSet<>();
    for (Container reader : readers) {
      values.add(effective(reader, pod, own, podWide));
    }
    return values.size() == 1 ? Optional.ofNullable(values.iterator().next()) : Optional.empty();
  }

  private static Long effective(
      Container container,
      PodSecurityContext pod,
      Function<SecurityContext, Long> own,
      Function<PodSecurityContext, Long> podWide) {
    Long value =
        container.getSecurityContext() == null ? null : own.apply(container.getSecurityContext());
    if (value == null && pod != null) {
      value = podWide.apply(pod);
    }
    return value;
  }

  private static String whyNotTheAppsUser(List<Container> readers, PodSecurityContext pod) {
    Set<Long> users = new LinkedHashSet<>();
    for (Container reader : readers) {
      Long user =
          effective(reader, pod, SecurityContext::getRunAsUser, PodSecurityContext::getRunAsUser);
      if (user == null) {
        return "container " + reader.getName() + " sets no runAsUser and neither does the pod";
      }
      if (user == 0) {
        return "container "
            + reader.getName()
            + " runs as root (uid 0), which the agent never does";
      }
      users.add(user);
    }
    return "the containers that mount the files run as different users " + users;
  }
}
