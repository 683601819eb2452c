package io.keywarden.injector.bench;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Load generator for a running injector: N client threads post AdmissionReviews of an opted-in pod
 * over HTTPS (HTTP/1.1 keep-alive from one pooled client, about one connection per thread, as the
 * apiserver's webhook client does) for a fixed time, after a warm-up that is not measured, then
 * prints latency percentiles and throughput. JDK only, so it runs from target/test-classes:
 *
 * <pre>
 * java -cp injector/target/test-classes io.keywarden.injector.bench.AdmissionLoad \
 *     https://127.0.0.1:8443/mutate-pods /path/to/injector-ca.pem [threads=50] [seconds=20] [warmupSeconds=5]
 * </pre>
 */
public final class AdmissionLoad {

  /** A Deployment-created pod: two containers, two files, a few options. */
  private static final String REVIEW =
      """
      {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"%s",
      "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
      "namespace":"shop","operation":"CREATE","userInfo":{"username":"system:serviceaccount:kube-system:replicaset-controller"},
      "object":{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-7d4b9c-","namespace":"shop",
      "labels":{"app":"web","pod-template-hash":"7d4b9c","keywarden.io/inject":"true"},
      "annotations":{"keywarden.io/secret.db":"db-password","keywarden.io/secret.api.json":"api-credentials",
      "keywarden.io/format.api.json":"json","keywarden.io/refresh":"5m","keywarden.io/on-change":"signal:SIGHUP"}},
      "spec":{"serviceAccountName":"web","containers":[
      {"name":"web","image":"registry.example/web:1.4.2","ports":[{"containerPort":8080,"protocol":"TCP"}],
      "resources":{"requests":{"cpu":"100m","memory":"128Mi"}},"volumeMounts":[{"name":"kube-api-access-abcde",
      "mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}],
      "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"},
      {"name":"metrics","image":"registry.example/exporter:0.9","terminationMessagePath":"/dev/termination-log",
      "terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
      "volumes":[{"name":"kube-api-access-abcde","projected":{"defaultMode":420,"sources":[{"serviceAccountToken":
      {"expirationSeconds":3607,"path":"token"}}]}}],"restartPolicy":"Always","dnsPolicy":"ClusterFirst"}}}}
      """;

  private AdmissionLoad() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println(
          "usage: AdmissionLoad <url> <ca.pem> [threads=50] [seconds=20] [warmupSeconds=5]");
      System.exit(2);
    }
    URI url = URI.create(args[0]);
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 50;
    Duration measured = Duration.ofSeconds(args.length > 3 ? Long.parseLong(args[3]) : 20);
    Duration warmup = Duration.ofSeconds(args.length > 4 ? Long.parseLong(args[4]) : 5);
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .sslContext(trusting(Path.of(args[1])))
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    long start = System.nanoTime();
    long measureFrom = start + warmup.toNanos();
    long end = measureFrom + measured.toNanos();
    AtomicLong errors = new AtomicLong();
    List<long[]> perThread = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(threads);
    for (int t = 0; t < threads; t++) {
      LatencyLog log = new LatencyLog();
      int id = t;
      Thread worker =
          new Thread(
              () -> {
                try {
                  long n = 0;
                  while (System.nanoTime() < end) {
                    HttpRequest request =
                        HttpRequest.newBuilder(url)
                            .header("Content-Type", "application/json")
                            .timeout(Duration.ofSeconds(10))
                            .POST(
                                HttpRequest.BodyPublishers.ofString(
                                    REVIEW.formatted("bench-" + id + "-" + n++)))
                            .build();
                    long sent = System.nanoTime();
                    try {
                      HttpResponse<String> response =
                          http.send(request, HttpResponse.BodyHandlers.ofString());
                      long took = System.nanoTime() - sent;
                      if (response.statusCode() != 200
                          || !response.body().contains("\"allowed\":true")) {
                        errors.incrementAndGet();
                      } else if (sent >= measureFrom) {
                        log.add(took);
                      }
                    } catch (Exception e) {
                      errors.incrementAndGet();
                    }
                  }
                } finally {
                  synchronized (perThread) {
                    perThread.add(log.toArray());
                  }
                  done.countDown();
                }
              },
              "load-" + t);
      worker.start();
    }
    done.await();

    long[] all = perThread.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    double seconds = measured.toNanos() / 1e9;
    System.out.printf(
        "threads=%d measured=%ss (after %ss warm-up) requests=%d errors=%d%n",
        threads, measured.toSeconds(), warmup.toSeconds(), all.length, errors.get());
    System.out.printf(
        "throughput=%.0f req/s  p50=%.2f ms  p90=%.2f ms  p99=%.2f ms  p99.9=%.2f ms  max=%.2f ms%n",
        all.length / seconds,
        ms(percentile(all, 50)),
        ms(percentile(all, 90)),
        ms(percentile(all, 99)),
        ms(percentile(all, 99.9)),
        ms(all.length == 0 ? 0 : all[all.length - 1]));
  }

  private static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(index, sorted.length - 1))];
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static SSLContext trusting(Path caPem) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(caPem)) {
      int i = 0;
      for (var certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("ca" + i++, certificate);
      }
    }
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, factory.getTrustManagers(), null);
    return ssl;
  }

  /** Growable primitive array: boxing millions of Longs would distort the measurement with GC. */
  private static final class LatencyLog {
    private long[] values = new long[1 << 14];
    private int size;

    void add(long value) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = value;
    }

    long[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
