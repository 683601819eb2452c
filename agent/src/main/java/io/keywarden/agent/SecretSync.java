package io.keywarden.agent;

import io.keywarden.agent.AgentConfig.FileSpec;
import io.keywarden.agent.AgentConfig.SecretRef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The latest value of every secret, and the files made from them: each new value re-renders all
 * files and writes them with one {@link AtomicWriter#write}, so the app sees one consistent change.
 * Nothing is written until every secret has a value, and a value that does not render leaves the
 * files as they were.
 */
final class SecretSync {

  private final AgentConfig config;
  private final AtomicWriter writer;
  private final ChangeHook hook;
  private final Log log;
  private final int secretCount;
  private final Map<SecretRef, SecretValue> latest = new HashMap<>();
  private boolean written;

  /**
   * The sync for {@code config}: its output directory, its on-change hook with this process's /proc
   * view.
   */
  static SecretSync create(AgentConfig config, Log log) {
    return new SecretSync(
        config,
        new AtomicWriter(config.outputDir()),
        new ChangeHook(config.onChange(), Path.of("/proc"), ProcessHandle.current().pid(), log),
        log);
  }

  SecretSync(AgentConfig config, AtomicWriter writer, ChangeHook hook, Log log) {
    this.config = config;
    this.writer = writer;
    this.hook = hook;
    this.log = log;
    this.secretCount = config.secretRefs().size();
  }

  /**
   * Takes a new value of {@code ref} and rewrites the files; runs the on-change hook when a write
   * after the first one changed them.
   *
   * @return whether the files changed
   * @throws IOException when the write failed (the previous files stay; retrying the same value is
   *     safe)
   * @throws Renderer.RenderException when a file cannot be made from the values (the previous files
   *     stay)
   */
  boolean offer(SecretRef ref, SecretValue value) throws IOException, Renderer.RenderException {
    boolean changed;
    boolean first;
    synchronized (this) {
      latest.put(ref, value);
      if (latest.size() < secretCount) {
        return false;
      }
      Map<String, byte[]> files = new LinkedHashMap<>();
      for (FileSpec spec : config.files()) {
        files.put(spec.file(), Renderer.render(spec, latest.get(spec.ref())));
      }
      first = !written;
      changed = writer.write(files, config.fileMode());
      written = true;
      if (first) {
        log.info("wrote " + files.size() + " files to " + config.outputDir() + sinceStart());
      } else if (changed) {
        log.info(
            "secret "
                + ref
                + " changed to version "
                + value.versionId()
                + "; rewrote "
                + files.size()
                + " files");
      } else {
        log.info(
            "secret "
                + ref
                + " is now version "
                + value.versionId()
                + " with the same content; files unchanged");
      }
    }
    if (changed && !first) {
      hook.run();
    }
    return changed;
  }

  /** Writes the empty set of files of a configuration without secrets (the AWS routes only). */
  synchronized void writeEmpty() throws IOException {
    writer.write(Map.of(), config.fileMode());
    written = true;
    log.info("no secret files; marked " + config.outputDir() + " ready" + sinceStart());
  }

  /** Whether the files have been written at least once. */
  synchronized boolean written() {
    return written;
  }

  private static String sinceStart() {
    return " (" + (System.nanoTime() - Agent.STARTED_NANOS) / 1_000_000 + " ms after main started)";
  }
}
