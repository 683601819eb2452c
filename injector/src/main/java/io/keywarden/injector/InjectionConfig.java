package io.keywarden.injector;

import java.time.Duration;
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

  /** When the agent looks for a new value; see {@link Annotations#REFRESH}. */
  public sealed interface Refresh {
    /** Rewrite as soon as the value changes. */
    record Watch() implements Refresh {}

    /** Poll at a fixed interval. */
    record Every(Duration interval) implements Refresh {
      public Every {
        if (interval.isNegative() || interval.isZero()) {
          throw new IllegalArgumentException("interval must be positive");
        }
      }
    }

    /** Write once at start. */
    record Never() implements Refresh {}
  }

  /** What the agent does after it changed the files; see {@link Annotations#ON_CHANGE}. */
  public sealed interface OnChange {
    /** Send a signal to the app's processes (needs a shared process namespace). */
    record Signal(String name) implements OnChange {}

    /** Run a command. */
    record Exec(String command) implements OnChange {}
  }
}
