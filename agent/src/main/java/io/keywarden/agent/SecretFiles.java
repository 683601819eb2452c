package io.keywarden.agent;

import io.keywarden.agent.AgentConfig.SecretRef;
import java.io.IOException;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;

/**
 * The agent's own pipeline for one set of files (fetch with the token file, render, {@link
 * AtomicWriter}, long-poll with backoff and jitter), embeddable in another process: the CSI node
 * plugin runs one per published volume, so a node-level driver and the sidecar share every line
 * that touches a secret.
 */
public final class SecretFiles implements AutoCloseable {

  private final AgentConfig config;
  private final SecretApi api;
  private final SecretSync sync;
  private final Log log;
  private final Map<SecretRef, SecretValue> written = new HashMap<>();
  private Sidecar sidecar;

  private SecretFiles(AgentConfig config, SecretApi api, SecretSync sync, Log log) {
    this.config = config;
    this.api = api;
    this.sync = sync;
    this.log = log;
  }

  /**
   * The pipeline of {@code config} (its on-change hook is not run: the caller has no process to
   * signal), logging to {@code err} with {@code prefix} before every message.
   */
  public static SecretFiles create(
      AgentConfig config, String userAgentVersion, PrintStream err, String prefix) {
    Log log = new Log(err, prefix);
    return new SecretFiles(
        config, new SecretApi(config, userAgentVersion), SecretSync.create(config, log), log);
  }

  /**
   * Fetches every secret once and writes all files, as the one-shot agent does.
   *
   * @throws IOException naming the secret that could not be fetched (an {@link ApiException} when
   *     the API refused it) or the write that failed; no file is written then
   */
  public void writeOnce() throws IOException, InterruptedException {
    for (SecretRef ref : config.secretRefs()) {
      SecretValue value;
      try {
        value = api.fetch(ref);
      } catch (ApiException e) {
        throw new ApiException(e.status(), "secret " + ref + ": " + e.getMessage(), e.retryAfter());
      } catch (IOException e) {
        throw new IOException("secret " + ref + ": " + SecretWatcher.describe(e), e);
      }
      try {
        sync.offer(ref, value);
      } catch (Renderer.RenderException e) {
        throw new IOException(e.getMessage(), e);
      }
      synchronized (this) {
        written.put(ref, value);
      }
    }
  }

  /**
   * Starts one watcher thread per secret, as the sidecar does after its first write; after {@link
   * #writeOnce()} each one long-polls from the version written instead of fetching it again.
   */
  public synchronized void startWatching() {
    if (sidecar == null) {
      sidecar = Sidecar.start(config, api, sync, log, Map.copyOf(written));
    }
  }

  /** Stops the watchers and ends their requests in flight; the files stay as they are. */
  @Override
  public synchronized void close() throws InterruptedException {
    if (sidecar != null) {
      sidecar.close();
    } else {
      api.close();
    }
  }
}
