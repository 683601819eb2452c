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
 * @param files sorted by file name; at least one unless an AWS route is on
 * @param aws the AWS routes; {@link AwsOptions#NONE} without the annotations
 * @param mountPath absolute, normalised directory in the app containers
 * @param fileMode POSIX mode bits of the files, at most 0777
 * @param containers names of the containers that mount the files; empty means every app container
 * @param mode sidecar or csi; in csi mode {@code onChange} is empty and {@code aws} is {@link
 *     AwsOptions#NONE} (the parser refuses them)
 */
public record InjectionConfig(
    List<SecretFile> files,
    String mountPath,
    int fileMode,
    Refresh refresh,
    Optional<OnChange> onChange,
    List<String> containers,
    AwsOptions aws,
    InjectionMode mode) {

  /**
   * The AWS annotations: {@code keywarden.io/aws-sdk}, {@code keywarden.io/aws-endpoint} (and its
   * port), {@code keywarden.io/aws-region} (empty: the injector's default).
   */
  public record AwsOptions(
      boolean sdk, boolean endpoint, int endpointPort, Optional<String> region) {

    public static final AwsOptions NONE =
        new AwsOptions(false, false, io.keywarden.contract.EndpointPort.DEFAULT, Optional.empty());

    public AwsOptions {
      Objects.requireNonNull(region, "region");
    }

    public boolean any() {
      return sdk || endpoint;
    }
  }

  /** In sidecar mode. */
  public InjectionConfig(
      List<SecretFile> files,
      String mountPath,
      int fileMode,
      Refresh refresh,
      Optional<OnChange> onChange,
      List<String> containers,
      AwsOptions aws) {
    this(files, mountPath, fileMode, refresh, onChange, containers, aws, InjectionMode.SIDECAR);
  }

  /** In sidecar mode, without AWS routes. */
  public InjectionConfig(
      List<SecretFile> files,
      String mountPath,
      int fileMode,
      Refresh refresh,
      Optional<OnChange> onChange,
      List<String> containers) {
    this(files, mountPath, fileMode, refresh, onChange, containers, AwsOptions.NONE);
  }

  public InjectionConfig {
    Objects.requireNonNull(aws, "aws");
    Objects.requireNonNull(mode, "mode");
    files = List.copyOf(files);
    containers = List.copyOf(containers);
    Objects.requireNonNull(mountPath, "mountPath");
    Objects.requireNonNull(refresh, "refresh");
    Objects.requireNonNull(onChange, "onChange");
  }
}
