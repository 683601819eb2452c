package io.keywarden.bench;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.testcluster.ControlPlane;
import io.keywarden.testcluster.RepositoryRoot;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the control plane alone needs to take N ManagedSecrets to Ready, with no operator: the same
 * burst of creates as {@link ReadyAtScale} (4 client threads), and for each secret, as soon as a
 * watch delivers it, the three writes any operator must make from a pool of 50 threads (JOSDK's
 * reconciliation threads): the finalizer, a ciphertext-record Secret of the operator's size in
 * another namespace, and a status with a version and condition Ready=True. No Event, no encryption,
 * no reconciliation logic, one watch on each kind (the operator has two: controller and API). The
 * figure to read is the control plane's CPU-seconds (etcd, apiserver, controller-manager) against
 * the 2 x 10 CPU-seconds that "1,000 Ready within 10 s" leaves on two cores for everything: the
 * operator can only add to it.
 *
 * <p>Usage: ControlPlaneFloor [N, default 1000] [writer threads, default 50; 0: only the creates,
 * no watches, no writes]; attaches to a control plane named by KEYWARDEN_TEST_CLUSTER_DIR or
 * KEYWARDEN_TEST_KUBECONFIG, else starts one.
 */
public final class ControlPlaneFloor {

  private static final String FINALIZER = ManagedSecret.FINALIZER;

  public static void main(String[] args) {
    Bench.exit(() -> benchmark(args));
  }

  private static boolean benchmark(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int writers = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    int creators = 4;
    ControlPlane plane = ControlPlane.fromEnvironment();
    String suffix = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
    String recordsNs = "kw-floor-op-" + suffix;
    String secretsNs = "kw-floor-" + suffix;
    try (KubernetesClient client = Bench.client(plane)) {
      System.out.printf(
          "control plane: kube-apiserver %s at %s%n",
          client.getKubernetesVersion().getGitVersion(), client.getMasterUrl());
      Bench.installCrds(client, RepositoryRoot.find());
      Bench.createNamespace(client, recordsNs);
      Bench.createNamespace(client, secretsNs);
      List<Long> planePids = Bench.controlPlanePids(plane);
      if (planePids.isEmpty()) {
        System.out.println("control plane processes unknown (attached): its CPU is not measured");
      }
      try {
        return run(client, planePids, secretsNs, recordsNs, count, creators, writers);
      } finally {
        // No operator runs to honour the finalizers: drop them (a merge patch, which no concurrent
        // change of the namespace's deletion can make conflict), then delete both namespaces.
        var secrets = client.resources(ManagedSecret.class).inNamespace(secretsNs);
        for (ManagedSecret ms : secrets.list().getItems()) {
          if (!ms.getMetadata().getFinalizers().isEmpty()) {
            secrets
                .withName(ms.getMetadata().getName())
                .patch(
                    PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":null}}");
          }
        }
        client.namespaces().withName(secretsNs).delete();
        client.namespaces().withName(recordsNs).delete();
      }
    }
  }

  private static boolean run(
      KubernetesClient client,
      List<Long> planePids,
      String ns,
      String recordsNs,
      int count,
      int creators,
      int writers)
      throws Exception {
    long self = ProcessHandle.current().pid();
    ExecutorService writePool = Executors.newFixedThreadPool(Math.max(1, writers));
    AtomicInteger failures = new AtomicInteger();
    // 0 writers: the creates alone, no watches and no writes, to tell the client's share apart.
    CountDownLatch ready = new CountDownLatch(writers == 0 ? 0 : count);
    Map<String, Boolean> taken = new ConcurrentHashMap<>();
    var secrets = client.resources(ManagedSecret.class).inNamespace(ns);
    // The operator's two minimal watches: its primaries and its ciphertext records.
    SharedIndexInformer<ManagedSecret> primaries = secrets.runnableInformer(0);
    SharedIndexInformer<io.fabric8.kubernetes.api.model.Secret> records =
        client.secrets().inNamespace(recordsNs).runnableInformer(0);
    primaries.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(ManagedSecret ms) {
            if (taken.putIfAbsent(ms.getMetadata().getName(), true) == null) {
              writePool.submit(() -> writeAsAnOperatorMust(client, ms, recordsNs, ready, failures));
            }
          }

          @Override
          public void onUpdate(ManagedSecret before, ManagedSecret after) {}

          @Override
          public void onDelete(ManagedSecret ms, boolean unknownFinalState) {}
        });
    try {
      if (writers > 0) {
        primaries.run();
        records.run();
      }

      String loadBefore = Bench.loadAverage();
      List<Long> planeBefore = planePids.stream().map(Bench::cpuTicks).toList();
      long selfBefore = Bench.cpuTicks(self);
      long[] machineBefore = Bench.machineTicks();
      Instant start = Instant.now();
      if (!CreateBurst.start(client, ns, count, creators, Map.of(), name -> {})
          .await(Duration.ofMinutes(10))) {
        throw new IllegalStateException("the creates did not end within 10 minutes");
      }
      Duration created = Duration.between(start, Instant.now());
      boolean done = ready.await(10, TimeUnit.MINUTES);
      Duration all = Duration.between(start, Instant.now());
      long[] machineAfter = Bench.machineTicks();
      long planeTicks = 0;
      for (int i = 0; i < planePids.size(); i++) {
        planeTicks += Math.max(0, Bench.cpuTicks(planePids.get(i)) - planeBefore.get(i));
      }
      long selfTicks = Bench.cpuTicks(self) - selfBefore;

      double busy = machineAfter[0] - machineBefore[0];
      double total = machineAfter[1] - machineBefore[1];
      System.out.println();
      System.out.printf(
          "N                          %d (%d creating threads, %d writing threads)%n",
          count, creators, writers);
      System.out.printf("time to create all         %.1f s%n", Bench.seconds(created));
      System.out.printf(
          "time to all written        %s%n",
          done
              ? String.format(
                  "%.1f s (first create to the last status write: finalizer, record, status each)",
                  Bench.seconds(all))
              : String.format("NOT REACHED: %d of %d", count - ready.getCount(), count));
      System.out.printf("failed writes              %d%n", failures.get());
      System.out.printf(
          "RESULT control plane       %.1f CPU-s (etcd, apiserver, controller-manager) = %.1f ms per"
              + " ManagedSecret%n",
          planeTicks / 100.0, planeTicks * 10.0 / count);
      System.out.printf(
          "RESULT this client         %.1f CPU-s (creates, watches, writes: the operator's part at"
              + " its barest, a JVM of its own)%n",
          selfTicks / 100.0);
      System.out.printf(
          "RESULT machine             %.0f %% of %d CPUs busy; load average %s before, %s after%n",
          total == 0 ? 0 : 100 * busy / total,
          Runtime.getRuntime().availableProcessors(),
          loadBefore,
          Bench.loadAverage());
      return done && failures.get() == 0;
    } finally {
      // Before the cleanup lists the secrets: a write still under way could add a finalizer after.
      writePool.shutdownNow();
      writePool.awaitTermination(1, TimeUnit.MINUTES);
      primaries.close();
      records.close();
    }
  }

  /** The finalizer, the ciphertext record, then a Ready status: what every new secret needs. */
  private static void writeAsAnOperatorMust(
      KubernetesClient client,
      ManagedSecret ms,
      String recordsNs,
      CountDownLatch ready,
      AtomicInteger failures) {
    try {
      String name = ms.getMetadata().getName();
      var secret =
          client.resources(ManagedSecret.class).inNamespace(ms.getMetadata().getNamespace());
      secret
          .withName(name)
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              "{\"metadata\":{\"finalizers\":[\"" + FINALIZER + "\"]}}");
      String versionId = UUID.randomUUID().toString();
      byte[] envelope = new byte[420]; // the size of a local-KMS envelope of a 32-character value
      ThreadLocalRandom.current().nextBytes(envelope);
      client
          .secrets()
          .inNamespace(recordsNs)
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withName(ms.getMetadata().getUid() + "-" + versionId)
                  .addToLabels("keywarden.io/secret-uid", ms.getMetadata().getUid())
                  .addToLabels("keywarden.io/secret-namespace", ms.getMetadata().getNamespace())
                  .endMetadata()
                  .addToData("envelope", Base64.getEncoder().encodeToString(envelope))
                  .build())
          .create();
      String now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
      secret
          .withName(name)
          .subresource("status")
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              String.format(
                  "{\"status\":{\"currentVersionId\":\"%1$s\",\"versions\":[{\"versionId\":\"%1$s\","
                      + "\"stages\":[\"AWSCURRENT\"],\"createdDate\":\"%2$s\",\"kmsKeyId\":\"local\","
                      + "\"keyVersion\":1}],\"observedGeneration\":1,\"conditions\":[{\"type\":"
                      + "\"Ready\",\"status\":\"True\",\"reason\":\"VersionAvailable\",\"message\":"
                      + "\"version %1$s is AWSCURRENT\",\"lastTransitionTime\":\"%2$s\","
                      + "\"observedGeneration\":1}]}}",
                  versionId, now));
    } catch (RuntimeException e) {
      failures.incrementAndGet();
      System.out.println("write failed: " + e);
    } finally {
      ready.countDown();
    }
  }
}
