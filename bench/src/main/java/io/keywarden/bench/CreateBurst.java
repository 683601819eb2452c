package io.keywarden.bench;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The at-scale benches' load: N ManagedSecrets named bench-00000, bench-00001, … (each generating a
 * 32-character value) created from a few threads at once, as a burst of kubectl applies would,
 * while the caller goes on (polling, measuring).
 */
final class CreateBurst {

  private final ExecutorService pool;
  private final List<Future<?>> creates;

  private CreateBurst(ExecutorService pool, List<Future<?>> creates) {
    this.pool = pool;
    this.creates = creates;
  }

  /**
   * Starts creating {@code count} ManagedSecrets in {@code namespace} from {@code threads} threads,
   * with {@code labels}; {@code created} is told each name once its create returned.
   */
  static CreateBurst start(
      KubernetesClient client,
      String namespace,
      int count,
      int threads,
      Map<String, String> labels,
      Consumer<String> created) {
    var resources =
        client
            .genericKubernetesResources("keywarden.io/v1alpha1", "ManagedSecret")
            .inNamespace(namespace);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> creates = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int first = t;
      creates.add(
          pool.submit(
              () -> {
                for (int i = first; i < count; i += threads) {
                  String name = String.format("bench-%05d", i);
                  GenericKubernetesResource resource =
                      new GenericKubernetesResourceBuilder()
                          .withApiVersion("keywarden.io/v1alpha1")
                          .withKind("ManagedSecret")
                          .withNewMetadata()
                          .withName(name)
                          .addToLabels(labels)
                          .endMetadata()
                          .addToAdditionalProperties(
                              "spec", Map.of("generate", Map.of("passwordLength", 32)))
                          .build();
                  resources.resource(resource).create();
                  created.accept(name);
                }
                return null;
              }));
    }
    pool.shutdown();
    return new CreateBurst(pool, creates);
  }

  /** Whether every thread has ended (done or failed); never blocks. */
  boolean ended() {
    return pool.isTerminated();
  }

  /**
   * Waits up to {@code timeout} for every create; false if they did not end in time (the rest are
   * then abandoned). Throws the first failed create's exception.
   */
  boolean await(Duration timeout) throws InterruptedException, ExecutionException {
    if (!pool.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      pool.shutdownNow();
      return false;
    }
    for (Future<?> create : creates) {
      create.get();
    }
    return true;
  }

  /** Abandons the creates not yet made. */
  void cancel() {
    pool.shutdownNow();
  }
}
