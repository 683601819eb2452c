package io.keywarden.csi;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The node plugin's settings, from its environment ({@code KEYWARDEN_CSI_*} and the agent's {@code
 * KEYWARDEN_API_*}), validated once at start.
 *
 * @param driverName the CSI driver name, also the CSIDriver object's name
 * @param nodeId this node's name (NodeGetInfo)
 * @param socket the CSI endpoint kubelet dials, a unix socket path
 * @param registrationDir kubelet's plugin registration directory ({@code
 *     <kubelet-root>/plugins_registry}); empty: no self-registration
 * @param kubeletDir kubelet's root directory ({@code --root-dir}): at start the plugin unmounts the
 *     recorded volume of a pod that is gone only when its target is under {@code
 *     <kubeletDir>/pods}; empty: it never unmounts without kubelet asking
 * @param stateDir where each volume's token and record live (0700; on the node's memory, so that
 *     they go when the node reboots, as the volumes' tmpfs mounts do)
 * @param tmpfsSize the size limit of each volume's tmpfs, tmpfs's {@code size=} syntax
 * @param apiUrl the secret-value API, as {@code KEYWARDEN_API_URL} of the agent
 * @param apiCaFile PEM certificates to trust for the API
 */
record PluginOptions(
    String driverName,
    String nodeId,
    Path socket,
    Optional<Path> registrationDir,
    Optional<Path> kubeletDir,
    Path stateDir,
    String tmpfsSize,
    String apiUrl,
    Optional<Path> apiCaFile,
    boolean allowInsecureHttp) {

  static final String DEFAULT_DRIVER_NAME = "csi.keywarden.io";
  static final String DEFAULT_TMPFS_SIZE = "1m";

  static final String DRIVER_NAME = "KEYWARDEN_CSI_DRIVER_NAME";
  static final String NODE_ID = "KEYWARDEN_CSI_NODE_ID";
  static final String SOCKET = "KEYWARDEN_CSI_SOCKET";
  static final String REGISTRATION_DIR = "KEYWARDEN_CSI_REGISTRATION_DIR";
  static final String KUBELET_DIR = "KEYWARDEN_CSI_KUBELET_DIR";
  static final String STATE_DIR = "KEYWARDEN_CSI_STATE_DIR";
  static final String TMPFS_SIZE = "KEYWARDEN_CSI_TMPFS_SIZE";
  static final String API_URL = "KEYWARDEN_API_URL";
  static final String API_CA_FILE = "KEYWARDEN_API_CA_FILE";
  static final String ALLOW_INSECURE_HTTP = "KEYWARDEN_ALLOW_INSECURE_HTTP";

  private static final Pattern SIZE = Pattern.compile("[1-9][0-9]{0,6}[kmg]");
  // CSI spec: the plugin name follows domain name notation, at most 63 characters.
  private static final Pattern NAME =
      Pattern.compile("(?=.{1,63}$)[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?");

  PluginOptions {
    Objects.requireNonNull(registrationDir, "registrationDir");
    Objects.requireNonNull(kubeletDir, "kubeletDir");
    Objects.requireNonNull(apiCaFile, "apiCaFile");
  }

  /** A bad or missing setting; the message names the variable. */
  static final class OptionException extends Exception {
    OptionException(String variable, String problem) {
      super(variable + ": " + problem);
    }
  }

  static PluginOptions fromEnv(Map<String, String> env) throws OptionException {
    String driverName = env.getOrDefault(DRIVER_NAME, DEFAULT_DRIVER_NAME);
    if (!NAME.matcher(driverName).matches()) {
      throw new OptionException(
          DRIVER_NAME, "must be a domain name of at most 63 characters, such as csi.keywarden.io");
    }
    String size = env.getOrDefault(TMPFS_SIZE, DEFAULT_TMPFS_SIZE);
    if (!SIZE.matcher(size).matches()) {
      throw new OptionException(TMPFS_SIZE, "must be a size such as 512k, 1m or 2m");
    }
    return new PluginOptions(
        driverName,
        required(env, NODE_ID),
        Path.of(required(env, SOCKET)),
        optionalPath(env, REGISTRATION_DIR),
        optionalPath(env, KUBELET_DIR),
        Path.of(required(env, STATE_DIR)),
        size,
        required(env, API_URL),
        optionalPath(env, API_CA_FILE),
        "true".equals(env.get(ALLOW_INSECURE_HTTP)));
  }

  private static Optional<Path> optionalPath(Map<String, String> env, String variable) {
    return Optional.ofNullable(env.get(variable)).filter(s -> !s.isEmpty()).map(Path::of);
  }

  private static String required(Map<String, String> env, String variable) throws OptionException {
    String value = env.get(variable);
    if (value == null || value.isBlank()) {
      throw new OptionException(variable, "is required");
    }
    return value;
  }
}
