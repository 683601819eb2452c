package io.keywarden.injector;

import io.keywarden.contract.OnChange;
import io.keywarden.contract.Refresh;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A pod's validated injection settings, parsed once from its annotations by {@link
 * InjectionConfigParser}; nothing after the parser sees an annotation string.
 *
 * @param files at least one, sorted by file name
 * @param mountPath absolute, normalised directory in the app containers
 * @param fileMode POSIX mode bits of the files, at most 0777
 * @param containers names of the containers that mount the files; empty means every app container
 */
public record InjectionConfig(
    List<SecretFile> files,
    String mountPath,
    int fileMode,
    Refresh refresh,
    Optional<OnChange> onChange,
    List<String> containers) {

  public InjectionConfig {
    files = List.copyOf(files);
    containers = List.copyOf(containers);
    Objects.requireNonNull(mountPath, "mountPath");
    Objects.requireNonNull(refresh, "refresh");
    Objects.requireNonNull(onChange, "onChange");
  }
}
