package io.keywarden.bench;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.testcluster.ControlPlane;
import io.keywarden.testcluster.QuarkusProcess;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * What the load generators share: a client for the control plane, the CRDs, the operator as a
 * process, /proc readings.
 */
final class Bench {

  private Bench() {}

  /**
   * Runs a load generator and exits with 0 when it reports success, 1 when not, 2 when it failed.
   * The exit is explicit: client threads would keep the JVM alive. The operator and a control plane
   * the run started are stopped by shutdown hooks.
   */
  static void exit(Callable<Boolean> benchmark) {
    int status;
    try {
      status = benchmark.call() ? 0 : 1;
    } catch (Exception e) {
      e.printStackTrace();
      status = 2;
    }
    System.exit(status);
  }

  /**
   * Deletes the bench's namespace and waits for the finalizers to empty it; when they do not within
   * {@code timeout}, removes the remaining finalizers, so that no namespace stays stuck in
   * Terminating on a shared cluster.
   */
  static void deleteSecretsNamespace(KubernetesClient client, String ns, Duration timeout) {
    Instant start = Instant.now();
    client.namespaces().withName(ns).delete();
    boolean gone =
        client
                .namespaces()
                .withName(ns)
                .informOnCondition(list -> list.isEmpty())
                .completeOnTimeout(null, timeout.toSeconds(), TimeUnit.SECONDS)
                .join()
            != null;
    if (gone) {
      System.out.printf(
          "cleanup: namespace %s deleted in %.1f s (finalizers ran)%n",
          ns, seconds(Duration.between(start, Instant.now())));
    } else {
      client
          .resources(ManagedSecret.class)
          .inNamespace(ns)
          .list()
          .getItems()
          .forEach(
              ms ->
                  client
                      .resources(ManagedSecret.class)
                      .inNamespace(ns)
                      .withName(ms.getMetadata().getName())
                      .edit(
                          m -> {
                            m.getMetadata().setFinalizers(List.of());
                            return m;
                          }));
      System.out.printf(
          "cleanup: namespace %s not gone within %s; removed the remaining finalizers%n",
          ns, timeout);
    }
  }

  /** The control plane's processes (etcd, apiserver, ...) when this run started it; else empty. */
  static List<Long> controlPlanePids(ControlPlane plane) {
    List<Long> pids = new java.util.ArrayList<>();
    plane
        .stateDir()
        .ifPresent(
            dir -> {
              try (Stream<Path> files = Files.list(dir.resolve("pids"))) {
                for (Path f : files.toList()) {
                  pids.add(Long.parseLong(Files.readString(f).trim()));
                }
              } catch (IOException | RuntimeException e) {
                // unknown: not counted
              }
            });
    return pids;
  }

  static KubernetesClient client(ControlPlane plane) throws IOException {
    String yaml = Files.readString(plane.kubeconfig(), StandardCharsets.UTF_8);
    return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(yaml)).build();
  }

  static void createNamespace(KubernetesClient client, String name) {
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels("keywarden.io/bench", "true")
                .endMetadata()
                .build())
        .create();
  }

  /** Applies crds/*.yml server-side, as users do, and waits until the apiserver serves them. */
  static void installCrds(KubernetesClient client, Path root) throws IOException {
    try (Stream<Path> files = Files.list(root.resolve("crds"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yml")).sorted().toList()) {
        try (InputStream in = Files.newInputStream(file)) {
          CustomResourceDefinition crd =
              client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
          client
              .apiextensions()
              .v1()
              .customResourceDefinitions()
              .resource(crd)
              .forceConflicts()
              .fieldManager("keywarden-bench")
              .serverSideApply();
          client
              .apiextensions()
              .v1()
              .customResourceDefinitions()
              .withName(crd.getMetadata().getName())
              .waitUntilCondition(
                  c ->
                      c != null
                          && c.getStatus() != null
                          // Conditions are null until the apiserver's controller first writes them.
                          && c.getStatus().getConditions() != null
                          && c.getStatus().getConditions().stream()
                              .anyMatch(
                                  k ->
                                      "Established".equals(k.getType())
                                          && "True".equals(k.getStatus())),
                  60,
                  TimeUnit.SECONDS);
        }
      }
    }
  }

  /**
   * The operator jar as its own JVM, like a pod runs it; returns once /q/health/ready answers 200.
   */
  static Process startOperator(
      Path jar,
      Path kubeconfig,
      String namespace,
      Path log,
      List<String> jvmFlags,
      Map<String, String> extraEnv,
      int httpPort)
      throws Exception {
    if (!Files.exists(jar)) {
      throw new IllegalStateException(jar + " is missing; build the operator first");
    }
    Files.createDirectories(log.getParent());
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags);
    command.addAll(List.of("-jar", jar.toString()));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().putAll(extraEnv);
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    builder.environment().put("POD_NAMESPACE", namespace);
    builder.environment().put("QUARKUS_HTTP_PORT", Integer.toString(httpPort));
    Process process = builder.start();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    URI ready = URI.create("http://127.0.0.1:" + httpPort + "/q/health/ready");
    Instant deadline = Instant.now().plusSeconds(90);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "operator exited with " + process.exitValue() + "; see " + log);
      }
      try {
        if (http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode()
            == 200) {
          return process;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    process.destroyForcibly();
    throw new IllegalStateException("operator not ready within 90 s; see " + log);
  }

  static int freePort() {
    return QuarkusProcess.freePort();
  }

  static void stop(Process process) throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  /** VmRSS of a process in KiB, 0 when it is gone. */
  static long rssKiB(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      // the process is gone
    }
    return 0;
  }

  static String rssMiB(long pid) {
    return String.format("%.0f MiB", rssKiB(pid) / 1024.0);
  }

  /** utime + stime of a process in clock ticks (1/100 s on Linux), -1 when it is gone. */
  static long cpuTicks(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // fields 14 and 15 of proc(5)
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * CPU ticks (utime+stime) of a process's live threads, summed by thread group: the kernel's
   * thread name (15 characters) with numbers dropped, so "C2 CompilerThre", "VM Thread",
   * "vert.x-eventloo" and a pool's threads each add up to one line. Compiler and GC threads are not
   * Java threads, so a JFR recording does not show them; this does.
   */
  static Map<String, Long> threadGroupTicks(long pid) {
    Map<String, Long> groups = new java.util.TreeMap<>();
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks.toList()) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
          groups.merge(threadGroup(name), ticks, Long::sum);
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      // the process is gone
    }
    return groups;
  }

  /**
   * A thread's group: its kernel name with numbers dropped ("vert.x-eventloo", "C CompilerThre").
   */
  private static String threadGroup(String threadName) {
    return threadName.replaceAll("[#-]?[0-9]+", "").trim();
  }

  /** A thread's group (as in {@link #threadGroupTicks}) and its context switches so far. */
  record ThreadSwitches(String group, long voluntary, long involuntary) {}

  /**
   * Context switches of a process's live threads, by thread id. Voluntary ones are a thread
   * blocking or waiting to be woken (the count that changes when threads stop waking each other);
   * involuntary ones are preemptions, which a busy neighbour on the machine raises too.
   */
  static Map<Long, ThreadSwitches> threadSwitches(long pid) {
    Map<Long, ThreadSwitches> threads = new java.util.HashMap<>();
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks.toList()) {
        try {
          String name = Files.readString(task.resolve("comm")).trim();
          long voluntary = 0;
          long involuntary = 0;
          for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")) {
              voluntary = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
              involuntary = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
          }
          threads.put(
              Long.parseLong(task.getFileName().toString()),
              new ThreadSwitches(threadGroup(name), voluntary, involuntary));
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      // the process is gone
    }
    return threads;
  }

  /** Busy and total ticks of all CPUs from /proc/stat. */
  static long[] machineTicks() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length && i <= 8; i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {total - idle, total};
    } catch (IOException e) {
      return new long[] {0, 0};
    }
  }

  /** A JFR recording started by {@link #startJfr}; stopping one that never started does nothing. */
  interface JfrRecording {
    void stop() throws Exception;
  }

  /**
   * Starts a JFR recording (profile settings) of {@code pid} into {@code file} when BENCH_JFR=1.
   * Stopping it prints where it went and how to summarise it, naming it {@code what}.
   */
  static JfrRecording startJfr(long pid, String name, Path file, String what) throws Exception {
    if (!"1".equals(System.getenv("BENCH_JFR"))) {
      return () -> {};
    }
    jcmd(pid, "JFR.start", "name=" + name, "settings=profile", "filename=" + file);
    return () -> {
      jcmd(pid, "JFR.stop", "name=" + name);
      System.out.printf(
          "JFR recording of %s: %s (summarise with bench/run-jfr-top %s)%n", what, file, file);
    };
  }

  /** Runs {@code jcmd <pid> command...} (JFR.start, GC.run, ...) and fails when it does. */
  static void jcmd(long pid, String... command) throws Exception {
    jcmdOutput(pid, command);
  }

  /** Runs {@code jcmd <pid> command...} and returns what it printed. */
  static String jcmdOutput(long pid, String... command) throws Exception {
    List<String> line =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid)));
    line.addAll(List.of(command));
    Process p = new ProcessBuilder(line).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("jcmd " + String.join(" ", command) + " failed: " + out);
    }
    return out;
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "?";
    }
  }

  /** The value at a percentile (nearest rank) of unsorted numbers; NaN when empty. */
  static double percentile(List<Double> values, double percentile) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int index = Math.max(0, (int) Math.ceil(percentile / 100.0 * sorted.size()) - 1);
    return sorted.get(Math.min(index, sorted.size() - 1));
  }

  static double seconds(Duration d) {
    return d.toMillis() / 1000.0;
  }

  /** Waits up to 60 s for the operator to publish its API CA (PEM) in namespace {@code ns}. */
  static String awaitApiCa(KubernetesClient client, String ns) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(60);
    while (Instant.now().isBefore(deadline)) {
      var cm = client.configMaps().inNamespace(ns).withName("keywarden-api-ca").get();
      if (cm != null && cm.getData() != null && cm.getData().get("ca.crt") != null) {
        return cm.getData().get("ca.crt");
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("ConfigMap keywarden-api-ca not published within 60 s");
  }

  /** A TLS context that trusts only the given CA (PEM). */
  static SSLContext trusting(String caPem) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry(
        "keywarden-api-ca",
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new java.io.ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII))));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }
}
