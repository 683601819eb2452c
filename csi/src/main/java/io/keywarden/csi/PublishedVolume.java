package io.keywarden.csi;

import io.keywarden.agent.AgentConfig;
import io.keywarden.agent.ConfigException;
import io.keywarden.agent.SecretFiles;
import io.keywarden.contract.AgentEnv;
import io.keywarden.contract.FileEntry;
import io.keywarden.contract.FileMode;
import io.keywarden.contract.Refresh;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * One published volume: the agent's pipeline writing the volume's files with the pod's token file
 * ({@link StateDir} rewrites it on every republish; the agent's client reads it on every request).
 */
final class PublishedVolume implements AutoCloseable {

  private final Path target;
  private final SecretFiles files;

  private PublishedVolume(Path target, SecretFiles files) {
    this.target = target;
    this.files = files;
  }

  /**
   * The pipeline for {@code volume} at {@code target}, configured exactly as the injector
   * configures a sidecar agent: the same variables, parsed by the agent's own {@link AgentConfig}.
   */
  static PublishedVolume create(
      PluginOptions options, Path tokenFile, Path target, PodVolume volume, PrintStream err)
      throws IOException {
    Map<String, String> env = new HashMap<>();
    env.put(AgentEnv.API_URL, options.apiUrl());
    options.apiCaFile().ifPresent(file -> env.put(AgentEnv.API_CA_FILE, file.toString()));
    env.put(AgentEnv.TOKEN_FILE, tokenFile.toString());
    env.put(AgentEnv.NAMESPACE, volume.namespace());
    env.put(AgentEnv.OUTPUT_DIR, target.toString());
    env.put(AgentEnv.FILES, FileEntry.render(volume.files().files()));
    env.put(AgentEnv.FILE_MODE, FileMode.render(volume.files().fileMode()));
    env.put(AgentEnv.REFRESH, Refresh.render(volume.files().refresh()));
    if (options.allowInsecureHttp()) {
      env.put(AgentEnv.ALLOW_INSECURE_HTTP, "true");
    }
    AgentConfig config;
    try {
      config = AgentConfig.fromEnv(env);
    } catch (ConfigException e) {
      // The attributes passed the same grammar the agent checks, so this is the plugin's own
      // setting.
      throw new IOException("the plugin's API settings are invalid: " + e.getMessage(), e);
    }
    SecretFiles files =
        SecretFiles.create(config, CsiPlugin.version(), err, "pod " + volume.pod() + ": ");
    return new PublishedVolume(target, files);
  }

  Path target() {
    return target;
  }

  /** Fetches every secret with the pod's token and writes the files; nothing written on error. */
  void writeOnce() throws IOException, InterruptedException {
    files.writeOnce();
  }

  /** Keeps the files fresh from now on: one long-poll per secret, with the pod's token. */
  void startWatching() {
    files.startWatching();
  }

  @Override
  public void close() throws InterruptedException {
    files.close();
  }
}
