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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;

/**
 * One published volume: the pod's token file (rewritten on every republish, read by the agent's
 * client on every request) and the agent's pipeline writing the volume's files with it.
 */
final class PublishedVolume implements AutoCloseable {

  private final Path target;
  private final Path tokenFile;
  private final SecretFiles files;

  private PublishedVolume(Path target, Path tokenFile, SecretFiles files) {
    this.target = target;
    this.tokenFile = tokenFile;
    this.files = files;
  }

  /**
   * The pipeline for {@code volume} at {@code target}, configured exactly as the injector
   * configures a sidecar agent: the same variables, parsed by the agent's own {@link AgentConfig}.
   */
  static PublishedVolume create(
      PluginOptions options, Path volumeDir, Path target, PodVolume volume, PrintStream err)
      throws IOException {
    Files.createDirectories(volumeDir);
    Files.setPosixFilePermissions(volumeDir, PosixFilePermissions.fromString("rwx------"));
    Path tokenFile = volumeDir.resolve("token");
    writeToken(tokenFile, volume.token());
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
    return new PublishedVolume(target, tokenFile, files);
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

  /** A republish: kubelet's newer token for the same pod. */
  void refreshToken(String token) throws IOException {
    writeToken(tokenFile, token);
  }

  @Override
  public void close() throws InterruptedException {
    files.close();
  }

  /** Replaces the token file at once (rename), so a request never reads half a token. */
  private static void writeToken(Path tokenFile, String token) throws IOException {
    Path tmp = tokenFile.resolveSibling("token.tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, token, StandardCharsets.UTF_8);
    Files.move(tmp, tokenFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
