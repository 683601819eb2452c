package io.keywarden.operator.access.aws;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.keywarden.operator.access.Caller;
import io.keywarden.operator.crypto.AesGcm;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * What SigV4 costs the operator per request, beside what a bearer token costs (a cache lookup by a
 * SHA-256 of the token once TokenReview has answered): {@code verify} is the steady state (session
 * token already opened and cached: canonical request, SHA-256 of body and canonical request, five
 * HMACs, the compare); {@code verifyUncachedSession} also opens the token (AES-GCM + JSON) and
 * derives its secret (HMAC); {@code bearerDigest} is the bearer path's per-request work; {@code
 * issue} is one container-credentials answer without its TokenReview. The request is a
 * GetSecretValue as the AWS SDK for Java signs it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class SigV4Benchmark {

  private static final Caller APP =
      new Caller(
          "system:serviceaccount:bench:app",
          "5b3f7c2e-0d6a-4f7e-9c1b-2a8d4e6f0a11",
          List.of("system:serviceaccounts", "system:serviceaccounts:bench", "system:authenticated"),
          Map.of(
              "authentication.kubernetes.io/pod-name", List.of("app-6d8f9c7b5-x2k4p"),
              "authentication.kubernetes.io/pod-uid",
                  List.of("0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f")));

  static final class Keys extends SessionKeyStore {
    private final SessionKey key = SessionKey.derive(1, AesGcm.newKey());

    Keys() {
      super(null, "bench", "keys", Duration.ofMinutes(1), Clock.systemUTC());
    }

    @Override
    public SessionKey primary() {
      return key;
    }

    @Override
    public SessionKey byId(int id) {
      return id == key.id() ? key : null;
    }
  }

  private final Keys keys = new Keys();
  private final ObjectMapper json = new ObjectMapper();
  private final SigV4Verifier verifier = new SigV4Verifier("secretsmanager");
  private SessionTokens tokens;
  private SessionTokens.Credentials credentials;
  private RequestParts request;
  private Instant now;
  private String bearer;

  @Setup
  public void setUp() {
    tokens = new SessionTokens(keys, json);
    credentials = tokens.issue(APP, Instant.now().plus(Duration.ofHours(1)));
    String body = "{\"SecretId\":\"bench/bench-value\"}";
    var signed =
        AwsV4HttpSigner.create()
            .sign(
                r ->
                    r.request(
                            SdkHttpRequest.builder()
                                .method(SdkHttpMethod.POST)
                                .uri(
                                    URI.create(
                                        "https://keywarden-operator.keywarden-system.svc:8443/"))
                                .putHeader("Content-Type", "application/x-amz-json-1.1")
                                .putHeader("X-Amz-Target", "secretsmanager.GetSecretValue")
                                .putHeader(
                                    "amz-sdk-invocation-id", "3f1c2b4a-5d6e-7f80-91a2-b3c4d5e6f708")
                                .putHeader("amz-sdk-request", "attempt=1; max=4")
                                .build())
                        .payload(ContentStreamProvider.fromUtf8String(body))
                        .identity(
                            AwsSessionCredentialsIdentity.create(
                                credentials.accessKeyId(),
                                credentials.secretAccessKey(),
                                credentials.sessionToken()))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "secretsmanager")
                        .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1"));
    Map<String, List<String>> headers = new HashMap<>(signed.request().headers());
    request = new RequestParts("POST", "/", "", headers, body.getBytes(StandardCharsets.UTF_8));
    now = Instant.now();
    bearer = credentials.sessionToken();
    verify();
  }

  /**
   * CPU time per operation of the calling thread (ThreadMXBean), which a run queue shared with
   * other work does not inflate as it does JMH's wall-clock figures: {@code java -cp …
   * io.keywarden.operator.access.aws.SigV4Benchmark [iterations]}.
   */
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    SigV4Benchmark b = new SigV4Benchmark();
    b.setUp();
    var threads = java.lang.management.ManagementFactory.getThreadMXBean();
    Map<String, java.util.concurrent.Callable<Object>> ops = new java.util.LinkedHashMap<>();
    ops.put("verify", b::verify);
    ops.put("verifyUncachedSession", b::verifyUncachedSession);
    ops.put("bearerDigest", b::bearerDigest);
    ops.put("issue", b::issue);
    for (int round = 0; round < 3; round++) {
      for (var op : ops.entrySet()) {
        long cpu = threads.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
          op.getValue().call();
        }
        double micros = (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / n;
        if (round == 2) {
          System.out.printf("RESULT %-22s %8.2f us CPU per op (%d ops)%n", op.getKey(), micros, n);
        }
      }
    }
  }

  @Benchmark
  public Caller verify() {
    SessionTokens.Session[] session = new SessionTokens.Session[1];
    verifier.verify(
        request,
        now,
        (id, token) -> {
          session[0] = tokens.open(id, token);
          return session[0].secretAccessKey();
        });
    return session[0].caller();
  }

  @Benchmark
  public Caller verifyUncachedSession() {
    SessionTokens fresh = new SessionTokens(keys, json);
    SessionTokens.Session[] session = new SessionTokens.Session[1];
    verifier.verify(
        request,
        now,
        (id, token) -> {
          session[0] = fresh.open(id, token);
          return session[0].secretAccessKey();
        });
    return session[0].caller();
  }

  @Benchmark
  public byte[] bearerDigest() throws Exception {
    return java.security.MessageDigest.getInstance("SHA-256")
        .digest(bearer.getBytes(StandardCharsets.UTF_8));
  }

  @Benchmark
  public SessionTokens.Credentials issue() {
    return tokens.issue(APP, now.plus(Duration.ofHours(1)));
  }
}
