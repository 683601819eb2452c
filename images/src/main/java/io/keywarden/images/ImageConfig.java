package io.keywarden.images;

import java.util.List;
import java.util.Objects;

/**
 * The run-time part of an image config (OCI image spec, config.md, "config"): what a runtime starts
 * and as whom.
 *
 * @param entrypoint the argv the container runs; not empty
 * @param env {@code NAME=value} pairs
 * @param user {@code uid[:gid]}, numeric, so that Kubernetes' runAsNonRoot can check it without
 *     reading /etc/passwd; empty for root
 * @param workingDir absolute, or empty for /
 */
public record ImageConfig(
    List<String> entrypoint, List<String> env, String user, String workingDir) {

  public ImageConfig {
    entrypoint = List.copyOf(entrypoint);
    env = List.copyOf(env);
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(workingDir, "workingDir");
    if (entrypoint.isEmpty()) {
      throw new IllegalArgumentException("entrypoint: at least one argument is needed");
    }
    for (String pair : env) {
      if (pair.indexOf('=') < 1) {
        throw new IllegalArgumentException("env: '" + pair + "' is not NAME=value");
      }
    }
    if (!user.isEmpty() && !user.matches("[0-9]+(:[0-9]+)?")) {
      throw new IllegalArgumentException("user: '" + user + "' is not a numeric uid[:gid]");
    }
    if (!workingDir.isEmpty() && !workingDir.startsWith("/")) {
      throw new IllegalArgumentException("workingDir: '" + workingDir + "' is not absolute");
    }
  }
}
