package io.keywarden.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.testcluster.RepositoryRoot;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * GetSecretValue through SigV4 and through the sidecar endpoint beside the Bearer paths, in one run
 * against one operator process: (1) REST {@code GET …/value} with a bearer token (the agent's
 * path), (2) {@code POST /} awsJson1.1 with a bearer token, (3) {@code POST /} signed with SigV4 by
 * container credentials (the AWS SDKs' direct route), (4) {@code POST /} to the agent's loopback
 * endpoint ({@code keywarden.io/aws-endpoint}: the agent jar as a host process, plain HTTP on
 * 127.0.0.1, forwarding each request to the API with the pod's token). Each with wrk (2 threads, N
 * keep-alive TLS connections, 10 s warm-up then the measured run). wrk cannot compute HMACs, so the
 * SigV4 request is signed by the AWS SDK for Java's signer right before its runs and then sent
 * unchanged (the server does the full verification on every request; the signature stays inside the
 * 5-minute window for the run). Usage: SigV4Load [connections, default 64] [seconds, default 30].
 */
public final class SigV4Load {

  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) {
    int connections = args.length > 0 ? Integer.parseInt(args[0]) : 64;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    Bench.exit(() -> run(connections, seconds));
  }

  private static boolean run(int connections, int seconds) throws Exception {
    Path root = RepositoryRoot.find();
    int apiPort = Bench.freePort();
    try (OperatorSession session =
        OperatorSession.start(
            "sigv4-load", Map.of("KEYWARDEN_API_PORT", Integer.toString(apiPort)))) {
      var client = session.client;
      String ns = session.secretsNs;
      client
          .serviceAccounts()
          .inNamespace(ns)
          .resource(
              new ServiceAccountBuilder().withNewMetadata().withName("app").endMetadata().build())
          .create();
      client
          .resources(ManagedSecret.class)
          .inNamespace(ns)
          .resource(
              client
                  .getKubernetesSerialization()
                  .unmarshal(
                      """
                      apiVersion: keywarden.io/v1alpha1
                      kind: ManagedSecret
                      metadata: {name: bench-value}
                      spec: {generate: {passwordLength: 32}, access: [{name: app, actions: [get]}]}
                      """,
                      ManagedSecret.class))
          .create();
      String token =
          client
              .serviceAccounts()
              .inNamespace(ns)
              .withName("app")
              .tokenRequest(
                  new TokenRequestBuilder()
                      .withNewSpec()
                      .withAudiences("keywarden.io")
                      .withExpirationSeconds(3600L)
                      .endSpec()
                      .build())
              .getStatus()
              .getToken();
      String ca = Bench.awaitApiCa(client, session.operatorNs);
      HttpClient http = HttpClient.newBuilder().sslContext(Bench.trusting(ca)).build();
      String base = "https://127.0.0.1:" + apiPort;
      String rest = base + "/v1/namespaces/" + ns + "/managedsecrets/bench-value/value";
      String body = "{\"SecretId\":\"" + ns + "/bench-value\"}";
      Instant deadline = Instant.now().plusSeconds(60);
      while (http.send(
                  HttpRequest.newBuilder(URI.create(rest))
                      .header("Authorization", "Bearer " + token)
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          != 200) {
        if (Instant.now().isAfter(deadline)) {
          throw new IllegalStateException("app cannot read bench-value within 60 s");
        }
        Thread.sleep(300);
      }
      JsonNode credentials =
          JSON.readTree(
              http.send(
                      HttpRequest.newBuilder(URI.create(base + "/v1/aws/credentials"))
                          .header("Authorization", token)
                          .build(),
                      HttpResponse.BodyHandlers.ofString())
                  .body());

      Map<String, ApiLoad.WrkResult> results = new LinkedHashMap<>();
      Path dir = root.resolve("bench/target");
      Files.createDirectories(dir);
      results.put(
          "REST GET …/value, Bearer",
          measure(
              dir,
              "rest-bearer",
              rest,
              "wrk.headers[\"Authorization\"] = \"Bearer " + token + "\"\n",
              connections,
              seconds));
      Map<String, String> awsHeaders =
          Map.of(
              "Content-Type", "application/x-amz-json-1.1",
              "X-Amz-Target", "secretsmanager.GetSecretValue");
      results.put(
          "POST / GetSecretValue, Bearer",
          measure(
              dir,
              "aws-bearer",
              base + "/",
              post(body, awsHeaders)
                  + "wrk.headers[\"Authorization\"] = \"Bearer "
                  + token
                  + "\"\n",
              connections,
              seconds));
      // Signed last, right before its runs: warm-up and measured run end within the window.
      Map<String, String> signed = new LinkedHashMap<>(awsHeaders);
      signed.putAll(sign(base, body, awsHeaders, credentials));
      results.put(
          "POST / GetSecretValue, SigV4",
          measure(dir, "aws-sigv4", base + "/", post(body, signed), connections, seconds));
      try (SidecarAgent agent = SidecarAgent.start(root, dir, base, ca, ns, token)) {
        results.put(
            "sidecar 127.0.0.1 POST /",
            measure(dir, "sidecar", agent.url(), post(body, awsHeaders), connections, seconds));
      }

      System.out.printf(
          "%n== GetSecretValue, wrk -t2 -c%d, %d s measured after 10 s warm-up, load average now %s%n",
          connections, seconds, Bench.loadAverage());
      double bearer = results.get("POST / GetSecretValue, Bearer").rps();
      for (var e : results.entrySet()) {
        ApiLoad.WrkResult r = e.getValue();
        System.out.printf(
            "RESULT %-32s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  non-2xx %d  socket errors %d  (%+.1f %% vs POST / Bearer)%n",
            e.getKey(),
            r.rps(),
            r.p50(),
            r.p99(),
            r.non2xx(),
            r.socketErrors(),
            (r.rps() / bearer - 1) * 100);
      }
      return results.values().stream().allMatch(r -> r.non2xx() == 0 && r.requests() > 0);
    }
  }

  /**
   * The agent jar as a host process serving the loopback endpoint, as in a pod with {@code
   * keywarden.io/aws-endpoint} (no secret files), on a free port.
   */
  private record SidecarAgent(Process process, int port, Path tokenFile) implements AutoCloseable {

    static SidecarAgent start(Path root, Path dir, String api, String ca, String ns, String token)
        throws Exception {
      Path jar;
      try (var jars =
          Files.newDirectoryStream(root.resolve("agent/target"), "keywarden-agent-*.jar")) {
        jar = jars.iterator().next();
      }
      Path tokenFile = dir.resolve("sigv4-load-agent-token");
      Files.writeString(tokenFile, token);
      Path out = Files.createDirectories(dir.resolve("sigv4-load-agent-files"));
      int port = Bench.freePort();
      ProcessBuilder builder =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-jar",
                  jar.toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("sigv4-load-agent.log").toFile());
      Map<String, String> env = builder.environment();
      env.put("KEYWARDEN_API_URL", api);
      env.put("KEYWARDEN_API_CA", ca);
      env.put("KEYWARDEN_TOKEN_FILE", tokenFile.toString());
      env.put("KEYWARDEN_NAMESPACE", ns);
      env.put("KEYWARDEN_OUTPUT_DIR", out.toString());
      env.put("KEYWARDEN_FILES", "[]");
      env.put("KEYWARDEN_AWS_ENDPOINT_PORT", Integer.toString(port));
      env.put("AWS_TOKEN", "file://" + tokenFile);
      SidecarAgent agent = new SidecarAgent(builder.start(), port, tokenFile);
      HttpClient http = HttpClient.newHttpClient();
      Instant deadline = Instant.now().plusSeconds(60);
      while (true) {
        try {
          if (http.send(
                      HttpRequest.newBuilder(URI.create(agent.url() + "ping")).build(),
                      HttpResponse.BodyHandlers.discarding())
                  .statusCode()
              == 200) {
            return agent;
          }
        } catch (java.io.IOException e) {
          // not listening yet
        }
        if (Instant.now().isAfter(deadline) || !agent.process.isAlive()) {
          agent.close();
          throw new IllegalStateException(
              "the agent's endpoint did not answer within 60 s; see bench/target/sigv4-load-agent.log");
        }
        Thread.sleep(200);
      }
    }

    String url() {
      return "http://127.0.0.1:" + port + "/";
    }

    @Override
    public void close() throws Exception {
      Bench.stop(process);
      Files.deleteIfExists(tokenFile);
    }
  }

  private static ApiLoad.WrkResult measure(
      Path dir, String name, String url, String lua, int connections, int seconds)
      throws Exception {
    Path script = dir.resolve("sigv4-load-" + name + ".lua");
    Files.writeString(script, lua);
    try {
      List<String> command =
          List.of("wrk", "-t2", "-c" + connections, "--latency", "-s", script.toString(), url);
      ApiLoad.wrk(command, 10);
      return ApiLoad.wrk(command, seconds);
    } finally {
      Files.deleteIfExists(script);
    }
  }

  private static String post(String body, Map<String, String> headers) {
    StringBuilder lua = new StringBuilder("wrk.method = \"POST\"\nwrk.body = '" + body + "'\n");
    headers.forEach(
        (k, v) ->
            lua.append("wrk.headers[\"").append(k).append("\"] = \"").append(v).append("\"\n"));
    return lua.toString();
  }

  /** The headers the AWS SDK for Java's signer adds for these credentials, now. */
  private static Map<String, String> sign(
      String base, String body, Map<String, String> headers, JsonNode credentials) {
    SdkHttpRequest.Builder request =
        SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(URI.create(base + "/"));
    headers.forEach(request::putHeader);
    var signed =
        AwsV4HttpSigner.create()
            .sign(
                r ->
                    r.request(request.build())
                        .payload(ContentStreamProvider.fromUtf8String(body))
                        .identity(
                            AwsSessionCredentialsIdentity.create(
                                credentials.get("AccessKeyId").asText(),
                                credentials.get("SecretAccessKey").asText(),
                                credentials.get("Token").asText()))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "secretsmanager")
                        .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1"));
    // Every header the signer set or signed (wrk sends Host itself, the same host:port).
    Map<String, String> added = new LinkedHashMap<>();
    signed
        .request()
        .headers()
        .forEach(
            (name, values) -> {
              if (!name.equalsIgnoreCase("Host")) {
                added.put(name, values.get(0));
              }
            });
    return added;
  }
}
