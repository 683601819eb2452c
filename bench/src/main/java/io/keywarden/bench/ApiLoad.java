package io.keywarden.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.testcluster.ControlPlane;
import io.keywarden.testcluster.MotoServer;
import io.keywarden.testcluster.RepositoryRoot;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * Load on the secret-value API of one operator process: (a) GetSecretValue throughput and latency
 * with wrk (HTTP/1.1 keep-alive over TLS), (b) the memory of N concurrent long-poll waiters and how
 * fast all of them answer after one PutSecretValue.
 *
 * <p>Usage: {@code ApiLoad [waiters=10000] [connections=64] [seconds=30]}. Starts a control plane
 * unless KEYWARDEN_TEST_CLUSTER_DIR or KEYWARDEN_TEST_KUBECONFIG names one; waiters=0 skips (b).
 * Environment: BENCH_KMS=aws-kms wraps the secret's data key with AWS KMS (a moto server started
 * for the run), BENCH_KMS=pkcs11 with a SoftHSM2 token (BENCH_PKCS11_TOKEN, set up by
 * bench/run-api-load); BENCH_JFR=1 records the measured wrk run with JFR (profile settings) into
 * bench/target; BENCH_OPERATOR_JVM replaces the operator's JVM flags (default {@code -XX:+UseG1GC
 * -Xmx512m}). Everything, cleanup included, ends within 10 minutes: a watchdog exits the JVM before
 * that.
 */
public final class ApiLoad {

  private static final Duration BUDGET = Duration.ofMinutes(9);
  private static final String AUDIENCE = "keywarden.io";
  private static final String SECRET = "bench-value";
  private static final int WAITER_TIMEOUT_SECONDS = 120;
  private static final int RAMP_BATCH = 500;
  // Puts that wake all waiters, each after they all wait again; the first runs cold code.
  private static final int WAKE_ROUNDS = 3;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path root = RepositoryRoot.find();
  private final String suffix =
      Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
  private final String operatorNs = "kw-bench-op-" + suffix;
  private final String secretsNs = "kw-api-load-" + suffix;
  private final AtomicBoolean cleaned = new AtomicBoolean();
  private ControlPlane plane;
  private MotoServer moto;
  private Process operator;
  private int apiPort;
  private int httpPort;
  private SSLContext ssl;
  private String apiCa;
  private Path wrkScript;
  private Path log;
  private final HttpClient metricsHttp =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public static void main(String[] args) {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                Thread.sleep(BUDGET.toMillis());
                System.out.printf(
                    "%nWATCHDOG: still running after %s; giving up (cleanup runs in the shutdown hook)%n",
                    BUDGET);
                System.exit(3);
              } catch (InterruptedException e) {
                // finished in time
              }
            },
            "watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    int status;
    try {
      status = new ApiLoad().benchmark(args) ? 0 : 1;
    } catch (Exception e) {
      e.printStackTrace();
      status = 2;
    }
    System.exit(status);
  }

  private boolean benchmark(String[] args) throws Exception {
    int waiters = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int connections = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 30;
    // BENCH_OPERATOR_JAR runs another build (e.g. a copy of main's quarkus-app) for before/after
    // pairs without rebuilding in between.
    Path jar =
        System.getenv("BENCH_OPERATOR_JAR") == null
            ? root.resolve("operator/target/quarkus-app/quarkus-run.jar")
            : Path.of(System.getenv("BENCH_OPERATOR_JAR")).toAbsolutePath();
    System.out.println("operator jar: " + jar);

    System.out.printf(
        "machine: %d CPUs, load average %s, open-files limit %s%n",
        Runtime.getRuntime().availableProcessors(), Bench.loadAverage(), fileLimit());
    plane = ControlPlane.fromEnvironment();
    Runtime.getRuntime().addShutdownHook(new Thread(this::cleanup, "api-load-cleanup"));
    boolean ok;
    try (KubernetesClient client = Bench.client(plane)) {
      System.out.printf(
          "control plane: kube-apiserver %s at %s%n",
          client.getKubernetesVersion().getGitVersion(), client.getMasterUrl());
      Bench.installCrds(client, root);
      Bench.createNamespace(client, operatorNs);
      Bench.createNamespace(client, secretsNs);

      List<String> jvm =
          System.getenv("BENCH_OPERATOR_JVM") == null
                  || System.getenv("BENCH_OPERATOR_JVM").isBlank()
              ? List.of("-XX:+UseG1GC", "-Xmx512m")
              : List.of(System.getenv("BENCH_OPERATOR_JVM").trim().split("\\s+"));
      apiPort = Bench.freePort();
      httpPort = Bench.freePort();
      log = root.resolve("bench/target/api-load-operator-" + suffix + ".log");
      Instant launched = Instant.now();
      // Reconcile only the bench namespace: on a shared cluster an all-namespaces operator would
      // also act on other people's ManagedSecrets (and theirs on ours: use a cluster of your own
      // then).
      Map<String, String> env =
          new java.util.HashMap<>(
              Map.of(
                  "KEYWARDEN_API_PORT",
                  Integer.toString(apiPort),
                  "QUARKUS_OPERATOR_SDK_NAMESPACES",
                  secretsNs));
      String kmsKeyId;
      if ("aws-kms".equals(System.getenv("BENCH_KMS"))) {
        env.putAll(awsKms());
        kmsKeyId = "aws";
      } else {
        kmsKeyId = pkcs11(env);
      }
      operator = Bench.startOperator(jar, plane.kubeconfig(), operatorNs, log, jvm, env, httpPort);
      System.out.printf(
          "operator: pid %d, JVM flags %s, ready in %d ms (log %s), RSS %s; API https://127.0.0.1:%d%n",
          operator.pid(),
          String.join(" ", jvm),
          Duration.between(launched, Instant.now()).toMillis(),
          log,
          Bench.rssMiB(operator.pid()),
          apiPort);

      apiCa = Bench.awaitApiCa(client, operatorNs);
      ssl = Bench.trusting(apiCa);
      for (String sa : List.of("app", "writer")) {
        client
            .serviceAccounts()
            .inNamespace(secretsNs)
            .resource(
                new ServiceAccountBuilder().withNewMetadata().withName(sa).endMetadata().build())
            .create();
      }
      ManagedSecret secret =
          client
              .getKubernetesSerialization()
              .unmarshal(
                  """
          apiVersion: keywarden.io/v1alpha1
          kind: ManagedSecret
          metadata: {name: %s}
          spec:
            kmsKeyId: %s
            generate: {passwordLength: 32}
            access: [{name: app, actions: [get]}, {name: writer, actions: [get, update]}]
          """
                      .formatted(SECRET, kmsKeyId),
                  ManagedSecret.class);
      client.resources(ManagedSecret.class).inNamespace(secretsNs).resource(secret).create();
      String reader = token(client, "app");
      String writer = token(client, "writer");
      HttpClient control =
          HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
      String valuePath = "/v1/namespaces/" + secretsNs + "/managedsecrets/" + SECRET + "/value";
      // Ready, Role and RoleBinding written, and RBAC seen by the apiserver's authorizer.
      JsonNode first = JSON.readTree(awaitOk(control, valuePath, reader).body());
      awaitOk(control, valuePath, writer);
      System.out.printf(
          "ManagedSecret %s/%s readable by SA app: version %s, %d-char value%n",
          secretsNs,
          SECRET,
          first.get("VersionId").asText(),
          first.get("SecretString").asText().length());

      throughput(valuePath, reader, connections, seconds);
      // 0 waiters: part (a) only, e.g. to compare KMS providers.
      ok = waiters == 0 || waiters(control, valuePath, reader, writer, waiters);
      System.out.printf("%nload average at the end: %s%n", Bench.loadAverage());
    } finally {
      cleanup();
    }
    return ok;
  }

  /**
   * With BENCH_PKCS11_TOKEN (bench/run-api-load with BENCH_KMS=pkcs11 makes the token), the
   * secret's data key is wrapped by the pkcs11 provider; SOFTHSM2_CONF reaches the operator with
   * the rest of this process's environment. Returns the spec.kmsKeyId to use.
   */
  private static String pkcs11(Map<String, String> operatorEnv) {
    String token = System.getenv("BENCH_PKCS11_TOKEN");
    if (token == null || token.isBlank()) {
      System.out.println("KMS: local");
      return "default";
    }
    operatorEnv.put("KEYWARDEN_KMS_KEYS_HSM_PROVIDER", "pkcs11");
    operatorEnv.put("KEYWARDEN_KMS_KEYS_HSM_KEY_ID", "keywarden-bench");
    operatorEnv.put("KEYWARDEN_KMS_PKCS11_TOKEN_LABEL", token);
    operatorEnv.put("KEYWARDEN_KMS_PKCS11_PIN_FILE", System.getenv("BENCH_PKCS11_PIN_FILE"));
    System.out.printf(
        "KMS: pkcs11, SoftHSM2 token '%s' (SOFTHSM2_CONF=%s)%n",
        token, System.getenv("SOFTHSM2_CONF"));
    return "hsm";
  }

  // ---------------------------------------------------------------- (a) throughput with wrk

  private void throughput(String valuePath, String token, int connections, int seconds)
      throws Exception {
    // The header goes in through a Lua script (mode 600), not the command line, so `ps` does not
    // show the token.
    wrkScript = root.resolve("bench/target/api-load-" + suffix + ".lua");
    Files.deleteIfExists(wrkScript);
    Files.createFile(
        wrkScript,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(wrkScript, "wrk.headers[\"Authorization\"] = \"Bearer " + token + "\"\n");
    String url = "https://127.0.0.1:" + apiPort + valuePath;
    List<String> command =
        List.of("wrk", "-t2", "-c" + connections, "--latency", "-s", wrkScript.toString(), url);

    System.out.printf(
        "%n== (a) GetSecretValue throughput: wrk -t2 -c%d --latency -H 'Authorization: Bearer <token>' %s%n",
        connections, url);
    WrkResult warm = wrk(command, 10);
    System.out.printf(
        "warm-up 10 s: %.0f requests/s, p50 %.2f ms, p99 %.2f ms, non-2xx %d%n",
        warm.rps, warm.p50, warm.p99, warm.non2xx);

    Bench.JfrRecording recording =
        Bench.startJfr(
            operator.pid(),
            "api-load",
            root.resolve("bench/target/api-load-" + suffix + ".jfr"),
            "the measured run");
    Map<String, Double> before = metrics();
    long opBefore = Bench.cpuTicks(operator.pid());
    Map<Long, Bench.ThreadSwitches> switchesBefore = Bench.threadSwitches(operator.pid());
    long[] machineBefore = Bench.machineTicks();
    List<Long> others = otherPids();
    List<Long> othersBefore = others.stream().map(Bench::cpuTicks).toList();
    String loadBefore = Bench.loadAverage();
    WrkResult run = wrk(command, seconds);
    long opTicks = Bench.cpuTicks(operator.pid()) - opBefore;
    Map<Long, Bench.ThreadSwitches> switchesAfter = Bench.threadSwitches(operator.pid());
    long[] machineAfter = Bench.machineTicks();
    long otherTicks = 0;
    for (int i = 0; i < others.size(); i++) {
      otherTicks += Math.max(0, Bench.cpuTicks(others.get(i)) - othersBefore.get(i));
    }
    Map<String, Double> after = metrics();
    recording.stop();

    double busy = machineAfter[0] - machineBefore[0];
    double total = machineAfter[1] - machineBefore[1];
    double cpus = Runtime.getRuntime().availableProcessors();
    System.out.println();
    System.out.println(run.raw.strip());
    System.out.println();
    System.out.printf(
        "RESULT throughput   %.0f requests/s over %d s, %d connections, %d requests, %d non-2xx/3xx, %d socket errors%n",
        run.rps, seconds, connections, run.requests, run.non2xx, run.socketErrors);
    System.out.printf(
        "RESULT latency      p50 %.2f ms  p75 %.2f ms  p90 %.2f ms  p99 %.2f ms  (wrk, per request)%n",
        run.p50, run.p75, run.p90, run.p99);
    System.out.printf(
        "RESULT server count GetSecretValue answers during the run by status: %s%n",
        delta(before, after, "keywarden_api_requests_total|GetSecretValue"));
    System.out.printf(
        "RESULT cpu          machine %.0f%% busy of %d CPUs; operator %.2f CPUs, etcd+apiserver+controller-manager %.2f CPUs, "
            + "rest (wrk and anything else) %.2f CPUs; load average %s -> %s%n",
        100 * busy / total,
        (int) cpus,
        cpus * opTicks / total,
        cpus * otherTicks / total,
        cpus * (busy - opTicks - otherTicks) / total,
        loadBefore,
        Bench.loadAverage());
    printSwitches(switchesBefore, switchesAfter, run.requests);
    Files.deleteIfExists(wrkScript);
  }

  record WrkResult(
      String raw,
      double rps,
      long requests,
      long non2xx,
      long socketErrors,
      double p50,
      double p75,
      double p90,
      double p99) {}

  /**
   * The operator's context switches per request during the run: voluntary ones in all and by thread
   * group (the four largest), then involuntary ones. Compared by thread id: a thread that started
   * during the run counts from zero; one that ended during it is left out (its count is gone).
   */
  private static void printSwitches(
      Map<Long, Bench.ThreadSwitches> before,
      Map<Long, Bench.ThreadSwitches> after,
      long requests) {
    Map<String, Long> voluntary = new java.util.TreeMap<>();
    long involuntary = 0;
    for (var entry : after.entrySet()) {
      Bench.ThreadSwitches end = entry.getValue();
      Bench.ThreadSwitches start =
          before.getOrDefault(entry.getKey(), new Bench.ThreadSwitches(end.group(), 0, 0));
      voluntary.merge(end.group(), end.voluntary() - start.voluntary(), Long::sum);
      involuntary += end.involuntary() - start.involuntary();
    }
    double per = Math.max(1, requests);
    String top =
        voluntary.entrySet().stream()
            .filter(e -> e.getValue() > 0)
            .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
            .limit(4)
            .map(e -> String.format("%s %.2f", e.getKey(), e.getValue() / per))
            .collect(java.util.stream.Collectors.joining(", "));
    System.out.printf(
        "RESULT switches     operator %.2f voluntary context switches per request (%s); %.2f involuntary%n",
        voluntary.values().stream().mapToLong(Long::longValue).sum() / per, top, involuntary / per);
  }

  static WrkResult wrk(List<String> base, int seconds) throws Exception {
    List<String> command = new ArrayList<>(base);
    command.add(1, "-d" + seconds + "s");
    command.add(1, "--timeout");
    command.add(2, "10s");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = process.getInputStream().readAllBytes();
    if (!process.waitFor(seconds + 60L, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("wrk did not finish");
    }
    String raw = new String(out, StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      throw new IllegalStateException("wrk failed (" + process.exitValue() + "): " + raw);
    }
    return new WrkResult(
        raw,
        number(raw, "Requests/sec:\\s+([0-9.]+)"),
        (long) number(raw, "([0-9]+) requests in"),
        (long) numberOr(raw, "Non-2xx or 3xx responses:\\s+([0-9]+)", 0),
        socketErrors(raw),
        latency(raw, "50%"),
        latency(raw, "75%"),
        latency(raw, "90%"),
        latency(raw, "99%"));
  }

  private static long socketErrors(String raw) {
    Matcher m =
        Pattern.compile(
                "Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)")
            .matcher(raw);
    if (!m.find()) {
      return 0;
    }
    long sum = 0;
    for (int i = 1; i <= 4; i++) {
      sum += Long.parseLong(m.group(i));
    }
    return sum;
  }

  /** A latency-distribution line of wrk in milliseconds ("99% 7.80ms", units us, ms, s, m). */
  private static double latency(String raw, String percentile) {
    Matcher m =
        Pattern.compile(
                "^\\s*" + Pattern.quote(percentile) + "\\s+([0-9.]+)(us|ms|s|m)\\s*$",
                Pattern.MULTILINE)
            .matcher(raw);
    if (!m.find()) {
      return Double.NaN;
    }
    double v = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "us" -> v / 1000;
      case "ms" -> v;
      case "s" -> v * 1000;
      default -> v * 60_000;
    };
  }

  private static double number(String raw, String regex) {
    double v = numberOr(raw, regex, Double.NaN);
    if (Double.isNaN(v)) {
      throw new IllegalStateException("cannot find /" + regex + "/ in wrk's output:\n" + raw);
    }
    return v;
  }

  private static double numberOr(String raw, String regex, double otherwise) {
    Matcher m = Pattern.compile(regex).matcher(raw);
    return m.find() ? Double.parseDouble(m.group(1)) : otherwise;
  }

  // ---------------------------------------------------------------- (b) long-poll waiters

  private boolean waiters(
      HttpClient control, String valuePath, String reader, String writer, int count)
      throws Exception {
    System.out.printf(
        "%n== (b) %d concurrent long-polls (GET %s?waitForChange=<CURRENT>&timeoutSeconds=%d), "
            + "each on its own HTTP/1.1 TLS connection (Vert.x client)%n",
        count, valuePath, WAITER_TIMEOUT_SECONDS);
    String current =
        JSON.readTree(get(control, valuePath, writer).body()).get("VersionId").asText();
    long pid = operator.pid();

    jcmd("GC.run");
    Thread.sleep(1000);
    Memory base = memory(pid);
    System.out.printf("before (after a full GC): %s%n", base);

    // A Vert.x client on one event loop with OpenSSL: the JDK's HttpClient (the first client
    // here) used 25 of the 32 CPU-seconds of the wake-up for itself, so it measured its own
    // cost more than the server's. One connection per request on HTTP/1.1.
    Vertx clientVertx =
        Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    boolean openssl = OpenSSLEngineOptions.isAvailable();
    io.vertx.core.http.HttpClient http =
        clientVertx.createHttpClient(
            new HttpClientOptions()
                .setSsl(true)
                .setSslEngineOptions(
                    openssl ? new OpenSSLEngineOptions() : new JdkSSLEngineOptions())
                .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(apiCa)))
                .setConnectTimeout(30_000),
            new PoolOptions().setHttp1MaxSize(count));
    System.out.printf(
        "client: Vert.x, one event loop, TLS by %s%n", openssl ? "OpenSSL" : "the JDK");
    String uri =
        valuePath + "?waitForChange=" + current + "&timeoutSeconds=" + WAITER_TIMEOUT_SECONDS;
    ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
    AtomicInteger done = new AtomicInteger();
    Duration ramp = ramp(http, uri, reader, count, answers, done);
    Thread.sleep(2000);
    long rssBeforeGc = Bench.rssKiB(pid);
    jcmd("GC.run");
    Thread.sleep(1000);
    Memory held = memory(pid);
    int early = done.get();
    System.out.printf(
        "with %d waiting: RSS %.0f MiB before the full GC; after it: %s%n",
        (int) held.waiters, rssBeforeGc / 1024.0, held);
    if (early > 0) {
      Map<String, Integer> why = new TreeMap<>();
      answers.forEach(
          a -> why.merge(a.error != null ? a.error : "HTTP " + a.status, 1, Integer::sum));
      System.out.printf("answered before the put (should be none): %d %s%n", early, why);
    }
    double n = Math.max(1, held.waiters);
    System.out.printf(
        "RESULT waiters      %d registered (gauge keywarden_api_waiters) in %.1f s (%.0f/s); %d answered early%n",
        (int) held.waiters,
        Bench.seconds(ramp),
        held.waiters / Math.max(0.001, Bench.seconds(ramp)),
        early);
    System.out.printf(
        "RESULT memory       RSS %.0f -> %.0f MiB (+%.1f KiB per waiter; %.0f MiB before the GC = +%.1f KiB); "
            + "heap used after full GC %.1f -> %.1f MiB (+%.1f KiB per waiter); direct buffers %.1f -> %.1f MiB; threads %d -> %d%n",
        base.rssKiB / 1024.0,
        held.rssKiB / 1024.0,
        (held.rssKiB - base.rssKiB) / n,
        rssBeforeGc / 1024.0,
        (rssBeforeGc - base.rssKiB) / n,
        base.heap / 1048576,
        held.heap / 1048576,
        (held.heap - base.heap) / 1024 / n,
        base.direct / 1048576,
        held.direct / 1048576,
        (int) base.threads,
        (int) held.threads);

    Wake first = wake(control, valuePath, writer, answers, count - early, "put 1");
    System.out.printf("after the answers: %s%n", memory(pid));

    // The first wake-up ran code that had never run before (the JIT compiled it meanwhile: 0.8-1.7
    // CPU-seconds of C2 in a run); a long-running operator has woken waiters before. The same
    // connections wait again for the new version, and again, and each time a put wakes them.
    boolean allAgain = true;
    String version = first.version();
    for (int round = 2; round <= WAKE_ROUNDS; round++) {
      answers.clear();
      done.set(0);
      String again =
          valuePath + "?waitForChange=" + version + "&timeoutSeconds=" + WAITER_TIMEOUT_SECONDS;
      System.out.printf("%nthe same %d connections wait again, for put %d%n", count, round);
      Duration rampAgain = ramp(http, again, reader, count, answers, done);
      int earlyAgain = done.get();
      System.out.printf(
          "RESULT waiters      %d registered again in %.1f s; %d answered early%n",
          count - earlyAgain, Bench.seconds(rampAgain), earlyAgain);
      Wake next = wake(control, valuePath, writer, answers, count - earlyAgain, "put " + round);
      allAgain &= next.ok() && earlyAgain == 0;
      version = next.version();
    }
    System.out.printf("operator log: %s%n", logSummary());
    clientVertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return first.ok() && allAgain && held.waiters >= count;
  }

  private record Wake(String version, boolean ok) {}

  /**
   * Sends {@code count} long-polls, {@value #RAMP_BATCH} at a time, each batch once the server has
   * registered the last; answers land in {@code answers}. Returns how long until all were waiting.
   */
  private Duration ramp(
      io.vertx.core.http.HttpClient http,
      String uri,
      String reader,
      int count,
      ConcurrentLinkedQueue<Answer> answers,
      AtomicInteger done)
      throws Exception {
    Instant rampStart = Instant.now();
    int sent = 0;
    int gauge = 0;
    while (sent < count) {
      int batch = Math.min(RAMP_BATCH, count - sent);
      for (int i = 0; i < batch; i++) {
        RequestOptions request =
            new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setHost("127.0.0.1")
                .setPort(apiPort)
                .setURI(uri)
                .putHeader("Authorization", "Bearer " + reader)
                .setIdleTimeout((WAITER_TIMEOUT_SECONDS + 60) * 1000L);
        http.request(request)
            .compose(
                r ->
                    r.send()
                        .compose(
                            response ->
                                response
                                    .body()
                                    .map(
                                        body ->
                                            new Answer(
                                                System.nanoTime(),
                                                response.statusCode(),
                                                body.toString(StandardCharsets.UTF_8),
                                                null))))
            .onComplete(
                result -> {
                  answers.add(
                      result.succeeded()
                          ? result.result()
                          : new Answer(
                              System.nanoTime(),
                              -1,
                              null,
                              result.cause().getClass().getSimpleName()
                                  + ": "
                                  + result.cause().getMessage()));
                  done.incrementAndGet();
                });
      }
      sent += batch;
      // Pace the ramp by what the server has registered, so that the handshakes do not pile up
      // (and the first check of each long-poll does not overflow the API's bounded queue).
      Instant deadline = Instant.now().plusSeconds(30);
      while (Instant.now().isBefore(deadline)) {
        gauge = (int) metrics().getOrDefault("keywarden_api_waiters", 0.0).doubleValue();
        if (gauge + done.get() >= sent) {
          break;
        }
        Thread.sleep(100);
      }
      if (sent % 2000 == 0 || sent == count) {
        System.out.printf(
            "  %6d sent, %6d waiting on the server, %d answered early, %.1f s%n",
            sent, gauge, done.get(), Bench.seconds(Duration.between(rampStart, Instant.now())));
      }
    }
    Instant deadline = Instant.now().plusSeconds(60);
    while (gauge + done.get() < count && Instant.now().isBefore(deadline)) {
      Thread.sleep(200);
      gauge = (int) metrics().getOrDefault("keywarden_api_waiters", 0.0).doubleValue();
    }
    return Duration.between(rampStart, Instant.now());
  }

  /**
   * One PutSecretValue while {@code expected} waiters wait; every one must answer 200 with the new
   * value. Prints client-side and server-side (audit) times after the put and the operator's CPU.
   */
  private Wake wake(
      HttpClient control,
      String valuePath,
      String writer,
      ConcurrentLinkedQueue<Answer> answers,
      int expected,
      String label)
      throws Exception {
    long pid = operator.pid();
    // One PutSecretValue; every waiter must answer 200 with the new value.
    String value = randomValue(32);
    answers.clear();
    Bench.JfrRecording recording =
        Bench.startJfr(
            pid,
            "wake",
            root.resolve(
                "bench/target/api-load-wake-" + label.replace(' ', '-') + "-" + suffix + ".jfr"),
            "the wake-up");
    Map<String, Double> wakeBefore = metrics();
    long opWakeBefore = Bench.cpuTicks(pid);
    Map<String, Long> threadsWakeBefore = Bench.threadGroupTicks(pid);
    long[] machineWakeBefore = Bench.machineTicks();
    Instant putWall = Instant.now();
    long putStart = System.nanoTime();
    HttpResponse<String> put =
        control.send(
            HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + apiPort + valuePath))
                .header("Authorization", "Bearer " + writer)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .PUT(
                    HttpRequest.BodyPublishers.ofString(
                        JSON.writeValueAsString(Map.of("SecretString", value))))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    long putDone = System.nanoTime();
    if (put.statusCode() != 200) {
      throw new IllegalStateException("PUT answered " + put.statusCode() + ": " + put.body());
    }
    String newVersion = JSON.readTree(put.body()).get("VersionId").asText();
    // Until all have answered, or nothing more has come for 20 s (a waiter the server dropped never
    // answers).
    Instant deadline = Instant.now().plusSeconds(WAITER_TIMEOUT_SECONDS + 30);
    int seen = -1;
    Instant progress = Instant.now();
    while (answers.size() < expected
        && Instant.now().isBefore(deadline)
        && Duration.between(progress, Instant.now()).toSeconds() < 20) {
      if (answers.size() != seen) {
        seen = answers.size();
        progress = Instant.now();
      }
      Thread.sleep(50);
    }
    int silent = expected - answers.size();
    long opWakeTicks = Bench.cpuTicks(pid) - opWakeBefore;
    Map<String, Long> threadsWake = new TreeMap<>();
    Bench.threadGroupTicks(pid)
        .forEach(
            (group, ticks) -> {
              long d = ticks - threadsWakeBefore.getOrDefault(group, 0L);
              if (d >= 5) {
                threadsWake.put(group, d * 10);
              }
            });
    long[] machineWakeAfter = Bench.machineTicks();
    Map<String, Double> wakeAfter = metrics();
    recording.stop();
    List<Double> afterPut = new ArrayList<>();
    List<Double> afterSent = new ArrayList<>();
    Map<String, Integer> outcomes = new TreeMap<>();
    for (Answer a : answers) {
      String kind =
          a.error != null
              ? a.error.replaceAll("[0-9]+", "N")
              : a.status == 200 && a.body.contains(value) && a.body.contains(newVersion)
                  ? "200 new value"
                  : "HTTP " + a.status;
      outcomes.merge(kind, 1, Integer::sum);
      if ("200 new value".equals(kind)) {
        afterPut.add((a.at - putDone) / 1e6);
        afterSent.add((a.at - putStart) / 1e6);
      }
    }
    int correct = outcomes.getOrDefault("200 new value", 0);
    System.out.printf(
        "PUT took %.0f ms (new version %s)%n", (putDone - putStart) / 1e6, newVersion);
    System.out.printf(
        "RESULT wake-up      ("
            + label
            + ") %d of %d answered with the new value; after the PUT returned: first %.0f ms  p50 %.0f ms  "
            + "p90 %.0f ms  p99 %.0f ms  last %.0f ms; outcomes %s%n",
        correct,
        expected,
        Bench.percentile(afterPut, 0),
        Bench.percentile(afterPut, 50),
        Bench.percentile(afterPut, 90),
        Bench.percentile(afterPut, 99),
        Bench.percentile(afterPut, 100),
        outcomes);
    System.out.printf(
        "RESULT wake-up      (%s) after the PUT was sent (it took %.0f ms): p50 %.0f ms  p99 %.0f ms  last %.0f ms%n",
        label,
        (putDone - putStart) / 1e6,
        Bench.percentile(afterSent, 50),
        Bench.percentile(afterSent, 99),
        Bench.percentile(afterSent, 100));
    if (silent > 0) {
      System.out.printf(
          "RESULT lost         %d waiters got NO answer (no 200, no 304) %.0f s after the PUT; connections still open%n",
          silent, (System.nanoTime() - putDone) / 1e9);
    }
    List<Double> server = serverAnswers(putWall.plusNanos(putDone - putStart));
    System.out.printf(
        "RESULT server side  %d GetSecretValue 200s audited after the PUT; audit time after the PUT returned: "
            + "first %.0f ms  p50 %.0f ms  p90 %.0f ms  p99 %.0f ms  last %.0f ms%n",
        server.size(),
        Bench.percentile(server, 0),
        Bench.percentile(server, 50),
        Bench.percentile(server, 90),
        Bench.percentile(server, 99),
        Bench.percentile(server, 100));
    Map<String, Long> woken = delta(wakeBefore, wakeAfter, "keywarden_api_wakeups_total");
    System.out.printf(
        "RESULT wake cpu     operator %.2f CPU-seconds (%.0f µs per waiter), everything else on the machine %.2f CPU-seconds "
            + "(the waiters' client most), from the PUT to the last answer; woken answers computed: %s%n",
        opWakeTicks / 100.0,
        opWakeTicks * 10_000.0 / Math.max(1, correct),
        (machineWakeAfter[0] - machineWakeBefore[0] - opWakeTicks) / 100.0,
        woken);
    System.out.printf(
        "RESULT wake threads operator CPU by thread group, ms (50 ms or more): %s%n", threadsWake);
    return new Wake(newVersion, correct == expected && silent == 0);
  }

  private record Answer(long at, int status, String body, String error) {}

  private record Memory(
      long rssKiB, double heap, double nonHeap, double direct, double threads, double waiters) {
    @Override
    public String toString() {
      return String.format(
          "RSS %.0f MiB, heap used %.1f MiB, non-heap %.1f MiB, direct buffers %.1f MiB, %d threads, waiters gauge %d",
          rssKiB / 1024.0,
          heap / 1048576,
          nonHeap / 1048576,
          direct / 1048576,
          (int) threads,
          (int) waiters);
    }
  }

  private Memory memory(long pid) throws Exception {
    Map<String, Double> m = metrics();
    return new Memory(
        Bench.rssKiB(pid),
        m.getOrDefault("heap", 0.0),
        m.getOrDefault("nonheap", 0.0),
        m.getOrDefault("direct", 0.0),
        m.getOrDefault("jvm_threads_live_threads", 0.0),
        m.getOrDefault("keywarden_api_waiters", 0.0));
  }

  // ---------------------------------------------------------------- helpers

  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})?\\s+(\\S+)");

  /**
   * A few figures from /q/metrics: gauges by name, heap/nonheap/direct sums, and counters of API
   * requests keyed "keywarden_api_requests_total|action|status".
   */
  private Map<String, Double> metrics() throws Exception {
    String text =
        metricsHttp
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/metrics"))
                    .timeout(Duration.ofSeconds(20))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Map<String, Double> out = new ConcurrentHashMap<>();
    for (String line : text.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (line.startsWith("#") || !m.find()) {
        continue;
      }
      String name = m.group(1);
      String labels = m.group(3) == null ? "" : m.group(3);
      double v;
      try {
        v = Double.parseDouble(m.group(4));
      } catch (NumberFormatException e) {
        continue;
      }
      switch (name) {
        case "keywarden_api_waiters", "jvm_threads_live_threads" -> out.put(name, v);
        case "jvm_memory_used_bytes" ->
            out.merge(labels.contains("area=\"heap\"") ? "heap" : "nonheap", v, Double::sum);
        case "jvm_buffer_memory_used_bytes" -> {
          if (labels.contains("id=\"direct\"")) {
            out.put("direct", v);
          }
        }
        case "keywarden_api_wakeups_total" ->
            out.merge(name + "|" + label(labels, "answered"), v, Double::sum);
        case "keywarden_api_requests_total" ->
            out.merge(
                name + "|" + label(labels, "action") + "|" + label(labels, "status"),
                v,
                Double::sum);
        default -> {}
      }
    }
    return out;
  }

  private static String label(String labels, String key) {
    Matcher m = Pattern.compile(key + "=\"([^\"]*)\"").matcher(labels);
    return m.find() ? m.group(1) : "";
  }

  /**
   * How much each counter under {@code prefix} (a key of {@link #metrics()} up to a '|', e.g.
   * "keywarden_api_requests_total|GetSecretValue") grew, keyed by the rest of its key; counters
   * that did not move are left out.
   */
  private static Map<String, Long> delta(
      Map<String, Double> before, Map<String, Double> after, String prefix) {
    Map<String, Long> out = new TreeMap<>();
    after.forEach(
        (k, v) -> {
          if (k.startsWith(prefix + "|")) {
            long d = Math.round(v - before.getOrDefault(k, 0.0));
            if (d != 0) {
              out.put(k.substring(prefix.length() + 1), d);
            }
          }
        });
    return out;
  }

  private void jcmd(String... command) throws Exception {
    Bench.jcmd(operator.pid(), command);
  }

  private static final Pattern AUDIT_TIME = Pattern.compile("\"time\":\"([^\"]+)\"");

  /**
   * Milliseconds after {@code since} of the audit lines of 200 GetSecretValue answers written after
   * it (the server's view).
   */
  private List<Double> serverAnswers(Instant since) throws IOException {
    List<Double> out = new ArrayList<>();
    try (var lines = Files.lines(log, StandardCharsets.UTF_8)) {
      lines
          .filter(
              l ->
                  l.startsWith("{")
                      && l.contains("\"action\":\"GetSecretValue\"")
                      && l.contains("\"status\":200"))
          .forEach(
              l -> {
                Matcher m = AUDIT_TIME.matcher(l);
                if (m.find()) {
                  Instant at = Instant.parse(m.group(1));
                  if (!at.isBefore(since.minusSeconds(1))) {
                    out.add(Duration.between(since, at).toNanos() / 1e6);
                  }
                }
              });
    }
    return out;
  }

  /** Counts of the operator log's WARN/ERROR lines by logger and exception, and of audit lines. */
  private String logSummary() throws IOException {
    Map<String, Integer> counts = new TreeMap<>();
    Pattern level =
        Pattern.compile("^\\S+ (WARN|ERROR) +\\[([^]]+)\\] ([^:]*(?:Exception|Error)?)");
    try (var lines = Files.lines(log, StandardCharsets.UTF_8)) {
      lines.forEach(
          line -> {
            if (line.startsWith("{")) {
              counts.merge("audit lines", 1, Integer::sum);
              return;
            }
            Matcher m = level.matcher(line);
            if (m.find()) {
              String what =
                  line.contains("RejectedExecutionException")
                      ? "RejectedExecutionException"
                      : m.group(3);
              counts.merge(
                  m.group(1)
                      + " ["
                      + m.group(2)
                      + "] "
                      + (what.length() > 80 ? what.substring(0, 80) : what),
                  1,
                  Integer::sum);
            }
          });
    }
    return counts.toString();
  }

  /**
   * Drops the audit lines (one per request: over a million) so that bench/target keeps a small log.
   */
  private void shrinkLog() {
    if (log == null || !Files.exists(log) || "1".equals(System.getenv("BENCH_KEEP_LOG"))) {
      return;
    }
    try {
      Path small = log.resolveSibling(log.getFileName() + ".tmp");
      long[] audit = new long[1];
      try (var lines = Files.lines(log, StandardCharsets.UTF_8);
          var out = Files.newBufferedWriter(small, StandardCharsets.UTF_8)) {
        for (String line : (Iterable<String>) lines::iterator) {
          if (line.startsWith("{\"audit\"")
              || line.startsWith("{") && line.contains("\"audit\":")) {
            audit[0]++;
          } else {
            out.write(line);
            out.newLine();
          }
        }
        out.write("[bench: " + audit[0] + " audit lines removed]");
        out.newLine();
      }
      Files.move(small, log, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | java.io.UncheckedIOException e) {
      System.out.println("could not shrink " + log + ": " + e);
    }
  }

  /**
   * The control plane's processes when test-cluster/up started it (pids/ in its state directory).
   */
  private List<Long> otherPids() {
    List<Long> pids = new ArrayList<>();
    plane
        .stateDir()
        .ifPresent(
            dir -> {
              try (var files = Files.list(dir.resolve("pids"))) {
                for (Path f : files.toList()) {
                  pids.add(Long.parseLong(Files.readString(f).trim()));
                }
              } catch (IOException | RuntimeException e) {
                // unknown: counted under "rest"
              }
            });
    return pids;
  }

  private String token(KubernetesClient client, String serviceAccount) {
    TokenRequest request =
        new TokenRequestBuilder()
            .withNewSpec()
            .withAudiences(AUDIENCE)
            .withExpirationSeconds(3600L)
            .endSpec()
            .build();
    return client
        .serviceAccounts()
        .inNamespace(secretsNs)
        .withName(serviceAccount)
        .tokenRequest(request)
        .getStatus()
        .getToken();
  }

  private HttpResponse<String> get(HttpClient http, String path, String token) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + apiPort + path))
            .header("Authorization", "Bearer " + token)
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Until the secret is Ready and RBAC lets the token read it (60 s at most). */
  private HttpResponse<String> awaitOk(HttpClient http, String path, String token)
      throws Exception {
    Instant deadline = Instant.now().plusSeconds(60);
    HttpResponse<String> last = null;
    while (Instant.now().isBefore(deadline)) {
      try {
        last = get(http, path, token);
      } catch (java.net.http.HttpConnectTimeoutException e) {
        // A cold operator on a busy machine may take longer than the connect timeout for its
        // first TLS handshakes: try again until the deadline.
        continue;
      }
      if (last.statusCode() == 200) {
        return last;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(
        "GET "
            + path
            + " still answers "
            + (last == null ? "nothing" : last.statusCode() + ": " + last.body())
            + " (a 404 for a missing ciphertext means another operator on this cluster reconciled the secret too:"
            + " run without KEYWARDEN_TEST_CLUSTER_DIR so that the bench starts its own control plane)");
  }

  private static String randomValue(int length) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    SecureRandom random = new SecureRandom();
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < length; i++) {
      b.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  private static String fileLimit() {
    try {
      return Files.readAllLines(Path.of("/proc/self/limits")).stream()
          .filter(l -> l.startsWith("Max open files"))
          .map(l -> l.replaceAll("Max open files\\s+(\\S+)\\s+(\\S+).*", "$1 (hard $2)"))
          .findFirst()
          .orElse("?");
    } catch (IOException e) {
      return "?";
    }
  }

  /**
   * Deletes the secrets' namespace while the operator still runs (its finalizer removes the
   * ciphertext), then stops the operator and deletes its namespace. Runs once, also on exit.
   */
  /**
   * BENCH_KMS=aws-kms: the secret's data key is wrapped by AWS KMS, here a moto server started for
   * the run (its key lives in moto's memory). Returns the operator's extra environment.
   */
  private Map<String, String> awsKms() throws IOException {
    moto = MotoServer.start(root.resolve("bench/target/api-load-moto-" + suffix + ".log"));
    try (KmsClient admin =
        KmsClient.builder()
            .region(Region.of("us-east-1"))
            .endpointOverride(moto.endpoint())
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("bench", "bench")))
            .httpClientBuilder(UrlConnectionHttpClient.builder())
            .build()) {
      String keyId =
          admin.createKey(b -> b.description("keywarden api-load")).keyMetadata().keyId();
      admin.createAlias(b -> b.aliasName("alias/keywarden-bench").targetKeyId(keyId));
    }
    Path config = root.resolve("bench/target/api-load-kms-" + suffix + ".properties");
    Files.writeString(
        config,
        String.join(
            "\n",
            "keywarden.kms.keys.aws.provider=aws-kms",
            "keywarden.kms.keys.aws.key-id=alias/keywarden-bench",
            "keywarden.kms.aws.region=us-east-1",
            "keywarden.kms.aws.endpoint-override=" + moto.endpoint(),
            ""));
    System.out.printf("KMS: aws-kms against moto at %s (alias/keywarden-bench)%n", moto.endpoint());
    return Map.of(
        "QUARKUS_CONFIG_LOCATIONS",
        config.toString(),
        "AWS_ACCESS_KEY_ID",
        "bench",
        "AWS_SECRET_ACCESS_KEY",
        "bench",
        "AWS_EC2_METADATA_DISABLED",
        "true");
  }

  private void cleanup() {
    if (!cleaned.compareAndSet(false, true) || plane == null) {
      return;
    }
    if (moto != null) {
      moto.close();
    }
    try {
      if (wrkScript != null) {
        Files.deleteIfExists(wrkScript);
      }
    } catch (IOException e) {
      // best effort
    }
    try (KubernetesClient client = Bench.client(plane)) {
      client.namespaces().withName(secretsNs).delete();
      boolean gone =
          operator != null
              && operator.isAlive()
              && client
                      .namespaces()
                      .withName(secretsNs)
                      .informOnCondition(List::isEmpty)
                      .completeOnTimeout(null, 30, TimeUnit.SECONDS)
                      .join()
                  != null;
      if (!gone) {
        client
            .resources(ManagedSecret.class)
            .inNamespace(secretsNs)
            .list()
            .getItems()
            .forEach(
                ms ->
                    client
                        .resources(ManagedSecret.class)
                        .inNamespace(secretsNs)
                        .withName(ms.getMetadata().getName())
                        .edit(
                            m -> {
                              m.getMetadata().setFinalizers(List.of());
                              return m;
                            }));
      }
      Bench.stop(operator);
      client.namespaces().withName(operatorNs).delete();
      System.out.printf(
          "cleanup: namespaces %s and %s deleted%s, operator stopped%n",
          secretsNs, operatorNs, gone ? "" : " (finalizers removed by hand)");
      shrinkLog();
    } catch (Exception e) {
      System.out.println("cleanup failed: " + e);
      if (operator != null) {
        operator.destroyForcibly();
      }
    }
  }
}
