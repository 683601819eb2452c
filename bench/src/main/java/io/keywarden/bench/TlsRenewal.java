package io.keywarden.bench;

import io.keywarden.tls.CertificateIssuer;
import io.keywarden.tls.IssuedCertificate;
import io.keywarden.tls.Pem;
import io.keywarden.tls.RenewalSettings;
import io.keywarden.tls.SubjectAlternativeNames;
import io.keywarden.tls.TrustBundle;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * TLS of the secret-value API, on one operator process: (a) the cost of a handshake (full, and
 * resumed) as the client sees it and in operator CPU; (b) renewal latency of a generated
 * certificate: from its renewal point (notAfter - renew-before) until a new handshake gets the new
 * one; (c) reload latency of mounted files: from the swap on disk until a handshake gets the new
 * certificate. Every handshake of (b) and (c) must succeed.
 *
 * <p>Usage: TlsRenewal [handshakes, default 2000] [renewals, default 3] [reloads, default 5]; 0
 * skips that part.
 */
public final class TlsRenewal {

  private static final Duration VALIDITY = Duration.ofSeconds(20);
  private static final Duration RENEW_BEFORE = Duration.ofSeconds(10);
  private static final Duration POLL = Duration.ofMillis(10);

  public static void main(String[] args) {
    int handshakes = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int renewals = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int reloads = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    Bench.exit(() -> run(handshakes, renewals, reloads));
  }

  private static boolean run(int handshakes, int renewals, int reloads) throws Exception {
    int port = Bench.freePort();
    boolean ok;
    try (OperatorSession session =
        OperatorSession.start(
            "tls",
            Map.of(
                "KEYWARDEN_API_PORT",
                Integer.toString(port),
                "KEYWARDEN_API_TLS_VALIDITY",
                VALIDITY.toSeconds() + "s",
                "KEYWARDEN_API_TLS_RENEW_BEFORE",
                RENEW_BEFORE.toSeconds() + "s",
                "KEYWARDEN_API_TLS_CHECK_INTERVAL",
                "1h"))) {
      String ca =
          session
              .client
              .configMaps()
              .inNamespace(session.operatorNs)
              .withName("keywarden-api-ca")
              .get()
              .getData()
              .get("ca.crt");
      Prober prober = new Prober(port, ca);
      if (handshakes > 0) {
        handshakeCost(prober, session.operator.pid(), handshakes, false);
        handshakeCost(prober, session.operator.pid(), handshakes, true);
      }
      ok = renewals == 0 || renewalLatency(prober, renewals);
      session.client.namespaces().withName(session.secretsNs).delete();
    }
    return (reloads == 0 || reloadLatency(reloads)) && ok;
  }

  private static void handshakeCost(Prober prober, long pid, int count, boolean resume)
      throws Exception {
    for (int i = 0; i < count / 4; i++) {
      prober.handshake(resume); // warm-up: JIT on both sides
    }
    List<Double> millis = new ArrayList<>();
    long cpuBefore = Bench.cpuTicks(pid);
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      long t = System.nanoTime();
      prober.handshake(resume);
      millis.add((System.nanoTime() - t) / 1e6);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long cpu = Bench.cpuTicks(pid) - cpuBefore;
    System.out.printf(
        "%s handshakes (%s, ECDSA P-256, one at a time): %d in %.1f s = %.0f/s; client-seen"
            + " p50 %.2f ms, p99 %.2f ms; operator CPU %.2f ms per handshake%n",
        resume ? "resumed" : "full",
        prober.negotiated,
        count,
        seconds,
        count / seconds,
        Bench.percentile(millis, 50),
        Bench.percentile(millis, 99),
        cpu * 10.0 / count); // USER_HZ = 100: a tick is 10 ms
  }

  private static boolean renewalLatency(Prober prober, int renewals) throws Exception {
    X509Certificate served = prober.handshake(false);
    List<Double> latencies = new ArrayList<>();
    int handshakes = 0;
    int failures = 0;
    while (latencies.size() < renewals) {
      Instant renewalPoint = served.getNotAfter().toInstant().minus(RENEW_BEFORE);
      X509Certificate next = served;
      while (next.getSerialNumber().equals(served.getSerialNumber())) {
        Thread.sleep(POLL.toMillis());
        try {
          next = prober.handshake(false);
        } catch (Exception e) {
          failures++;
        }
        handshakes++;
      }
      double latency = Duration.between(renewalPoint, Instant.now()).toMillis();
      latencies.add(latency);
      served = next;
    }
    System.out.printf(
        "renewal of a generated certificate (validity %s, renew-before %s): %d renewals, from the"
            + " renewal point to the first handshake with the new certificate %s ms (an overstatement by up"
            + " to 1,000 ms: notAfter has one-second precision); %d handshakes meanwhile, %d"
            + " failed%n",
        VALIDITY, RENEW_BEFORE, renewals, latencies, handshakes, failures);
    return failures == 0;
  }

  private static boolean reloadLatency(int reloads) throws Exception {
    Path dir = Files.createTempDirectory("keywarden-tls-bench");
    CertificateIssuer issuer = new CertificateIssuer("bench", RenewalSettings.DEFAULTS);
    IssuedCertificate ca = issuer.newCa(Instant.now());
    SubjectAlternativeNames names = SubjectAlternativeNames.of(List.of("localhost", "127.0.0.1"));
    swap(dir, issuer.issueServing(ca, names, Instant.now()));
    int port = Bench.freePort();
    List<Double> latencies = new ArrayList<>();
    int handshakes = 0;
    int failures = 0;
    try (OperatorSession session =
        OperatorSession.start(
            "tls-mounted",
            Map.of(
                "KEYWARDEN_API_PORT", Integer.toString(port),
                "KEYWARDEN_API_CERT_FILE", dir.resolve("tls.crt").toString(),
                "KEYWARDEN_API_KEY_FILE", dir.resolve("tls.key").toString(),
                "KEYWARDEN_API_TLS_CHECK_INTERVAL", "1s"))) {
      Prober prober = new Prober(port, Pem.certificate(ca.certificate()));
      for (int i = 0; i < reloads; i++) {
        IssuedCertificate next = issuer.issueServing(ca, names, Instant.now());
        BigInteger serial = next.certificate().getSerialNumber();
        Instant swapped = swap(dir, next);
        while (true) {
          Thread.sleep(POLL.toMillis());
          handshakes++;
          try {
            if (prober.handshake(false).getSerialNumber().equals(serial)) {
              break;
            }
          } catch (Exception e) {
            failures++;
          }
        }
        latencies.add((double) Duration.between(swapped, Instant.now()).toMillis());
        // Land the next swap at another point of the 1 s check cycle.
        Thread.sleep(300 + 170L * i);
      }
      session.client.namespaces().withName(session.secretsNs).delete();
    }
    System.out.printf(
        "reload of mounted files (check-interval 1s): %d swaps, from the swap on disk to the first"
            + " handshake with the new certificate %s ms; %d handshakes meanwhile, %d failed%n",
        reloads, latencies, handshakes, failures);
    return failures == 0;
  }

  /** A kubelet-style Secret volume update: new directory, then an atomic ..data symlink swap. */
  private static Instant swap(Path dir, IssuedCertificate serving) throws Exception {
    Path version = Files.createDirectory(dir.resolve("..v" + System.nanoTime()));
    Files.writeString(version.resolve("tls.crt"), Pem.certificate(serving.certificate()));
    Files.writeString(version.resolve("tls.key"), Pem.privateKey(serving.key()));
    Path link = dir.resolve("..data_tmp");
    Files.createSymbolicLink(link, version.getFileName());
    Files.move(link, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
    for (String file : List.of("tls.crt", "tls.key")) {
      if (!Files.isSymbolicLink(dir.resolve(file))) {
        Files.createSymbolicLink(dir.resolve(file), Path.of("..data", file));
      }
    }
    return Instant.now();
  }

  /** Opens a TLS connection, completes the handshake and returns the served certificate. */
  private static final class Prober {
    private final int port;
    private final SSLContext ssl;
    private volatile String negotiated = "?";

    Prober(int port, String caPem) {
      this.port = port;
      this.ssl = TrustBundle.sslContext(caPem);
    }

    /** {@code resume}: offer the last session; otherwise invalidate it so the handshake is full. */
    X509Certificate handshake(boolean resume) throws Exception {
      try (SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", port)) {
        var parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        var session = socket.getSession();
        negotiated = session.getProtocol() + " " + session.getCipherSuite();
        X509Certificate served = (X509Certificate) session.getPeerCertificates()[0];
        if (!resume) {
          session.invalidate();
        }
        return served;
      }
    }
  }
}
