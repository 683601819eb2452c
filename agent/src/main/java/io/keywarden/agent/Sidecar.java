package io.keywarden.agent;

import io.keywarden.agent.AgentConfig.SecretRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;

/**
 * The long-running agent: one {@link SecretWatcher} thread per distinct secret (Java 17 has no
 * virtual threads; a handful of platform threads with small stacks is cheap). Runs until {@link
 * #close()}.
 */
final class Sidecar implements AutoCloseable {

  private final List<Thread> threads = new ArrayList<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final SecretApi api;

  private Sidecar(SecretApi api) {
    this.api = api;
  }

  static Sidecar start(AgentConfig config, SecretApi api, SecretSync sync, Log log) {
    return start(config, api, sync, log, Map.of());
  }

  /**
   * @param written the values already written, by secret: their watchers follow them without
   *     fetching them again
   */
  static Sidecar start(
      AgentConfig config,
      SecretApi api,
      SecretSync sync,
      Log log,
      Map<SecretRef, SecretValue> written) {
    Sidecar sidecar = new Sidecar(api);
    Random random = new Random();
    for (SecretRef ref : config.secretRefs()) {
      Thread thread =
          new Thread(
              new SecretWatcher(ref, config, api, sync, log, random, written.get(ref)),
              "watch-" + ref);
      thread.setDaemon(true);
      sidecar.threads.add(thread);
    }
    for (Thread thread : sidecar.threads) {
      thread.start();
    }
    return sidecar;
  }

  /**
   * Blocks until {@link #close()}; with refresh {@code none} the sidecar idles here after the first
   * write.
   */
  void await() throws InterruptedException {
    closed.await();
  }

  @Override
  public void close() throws InterruptedException {
    for (Thread thread : threads) {
      thread.interrupt();
    }
    // A thread blocked reading a long-poll answer does not see the interrupt; closing its
    // connection ends the read.
    api.close();
    for (Thread thread : threads) {
      thread.join(5000);
    }
    closed.countDown();
  }
}
