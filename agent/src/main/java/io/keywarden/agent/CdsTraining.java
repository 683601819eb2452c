package io.keywarden.agent;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The training run for an AppCDS archive: {@code java -XX:ArchiveClassesAtExit=agent.jsa -jar
 * agent.jar --cds-training} runs the real sidecar code (config, HTTPS client with a private CA,
 * JSON, render, atomic write, one change) against a loopback stand-in of the API, so that the
 * classes it loads are archived, and exits. Needs no network and no cluster, so an image build can
 * run it. The stand-in's throwaway certificate comes from the runtime's {@code keytool}; without
 * one, the run falls back to plain HTTP and TLS classes are not archived.
 */
final class CdsTraining {

  static final String FLAG = "--cds-training";
  // Protects a key that lives for the seconds of the training run in a private temporary directory.
  private static final String TRAINING_PASSWORD = "cds-training";
  private static final String VALUE_V1 =
      "{\"username\":\"training\",\"password\":\"one\",\"port\":5432}";
  private static final String VALUE_V2 =
      "{\"username\":\"training\",\"password\":\"two\",\"port\":5432}";

  private CdsTraining() {}

  static int run() throws Exception {
    Path dir = Files.createTempDirectory("keywarden-cds-training");
    String caPem = selfSignedCertificate(dir);
    try (ServerSocket server =
        caPem == null
            ? new ServerSocket(0, 50, InetAddress.getLoopbackAddress())
            : serverContext(dir)
                .getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread serving = new Thread(() -> serve(server), "cds-training-api");
      serving.setDaemon(true);
      serving.start();
      Path out = Files.createDirectory(dir.resolve("out"));
      Path token = Files.writeString(dir.resolve("token"), "training-token");
      Map<String, String> env = new HashMap<>();
      if (caPem == null) {
        env.put(AgentConfig.API_URL, "http://127.0.0.1:" + server.getLocalPort());
        env.put(AgentConfig.ALLOW_INSECURE_HTTP, "true");
      } else {
        env.put(AgentConfig.API_URL, "https://127.0.0.1:" + server.getLocalPort());
        env.put(AgentConfig.API_CA, caPem);
      }
      env.put(AgentConfig.TOKEN_FILE, token.toString());
      env.put(AgentConfig.NAMESPACE, "training");
      env.put(AgentConfig.OUTPUT_DIR, out.toString());
      env.put(
          AgentConfig.FILES,
          "[{\"file\":\"raw\",\"secret\":\"db\"},"
              + "{\"file\":\"password\",\"secret\":\"db\",\"key\":\"password\",\"format\":\"raw\",\"stage\":\"CURRENT\"},"
              + "{\"file\":\"db.json\",\"secret\":\"db\",\"format\":\"json\"},"
              + "{\"file\":\"db.env\",\"secret\":\"db\",\"format\":\"env\"},"
              + "{\"file\":\"db.properties\",\"secret\":\"db\",\"format\":\"properties\"}]");
      env.put(AgentConfig.FILE_MODE, "0440");
      Path hookRan = dir.resolve("hook-ran");
      env.put(AgentConfig.ON_CHANGE, "exec:touch '" + hookRan + "'");
      Thread agent =
          new Thread(
              () -> {
                try {
                  Agent.run(env, new PrintStream(OutputStream.nullOutputStream()));
                } catch (InterruptedException e) {
                  // done
                }
              },
              "cds-training-agent");
      agent.setDaemon(true);
      agent.start();
      Path password = out.resolve("password");
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (!(Files.exists(password) && Files.readString(password).equals("two"))) {
        if (System.nanoTime() > deadline) {
          System.err.println(
              "CDS training run: the agent did not write the changed secret within 20 s");
          return Agent.EXIT_FAILED;
        }
        Thread.sleep(10);
      }
      // The hook runs after the write; a runtime without /bin/sh never gets there, which only costs
      // the wait.
      for (int i = 0; i < 200 && !Files.exists(hookRan); i++) {
        Thread.sleep(10);
      }
      if (caPem == null) {
        System.err.println(
            "CDS training run over plain HTTP: no keytool in this runtime, so TLS classes are not archived");
      }
      return Agent.EXIT_OK;
    } finally {
      try (Stream<Path> paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      }
    }
  }

  /**
   * A throwaway key pair for 127.0.0.1 in {@code dir/training.p12}; returns its certificate as PEM,
   * or null without keytool.
   */
  private static String selfSignedCertificate(Path dir) throws IOException, InterruptedException {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    if (!Files.isExecutable(keytool)) {
      return null;
    }
    String keyStore = dir.resolve("training.p12").toString();
    Process generate =
        new ProcessBuilder(
                keytool.toString(),
                "-genkeypair",
                "-alias",
                "training",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=keywarden-cds-training",
                "-ext",
                "san=ip:127.0.0.1",
                "-validity",
                "1",
                "-keystore",
                keyStore,
                "-storetype",
                "PKCS12",
                "-storepass",
                TRAINING_PASSWORD)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (generate.waitFor() != 0) {
      return null;
    }
    Process export =
        new ProcessBuilder(
                keytool.toString(),
                "-exportcert",
                "-rfc",
                "-alias",
                "training",
                "-keystore",
                keyStore,
                "-storepass",
                TRAINING_PASSWORD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String pem = new String(export.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    return export.waitFor() == 0 ? pem : null;
  }

  private static SSLContext serverContext(Path dir) throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(dir.resolve("training.p12"))) {
      store.load(in, TRAINING_PASSWORD.toCharArray());
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, TRAINING_PASSWORD.toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    return context;
  }

  // HTTP/1.1 with Connection: close: the first fetch gets v1, a long-poll on v1 gets v2, later ones
  // wait, then 304.
  private static void serve(ServerSocket server) {
    while (!server.isClosed()) {
      try (Socket socket = server.accept()) {
        BufferedReader in =
            new BufferedReader(
                new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        String requestLine = in.readLine();
        for (String header = in.readLine();
            header != null && !header.isEmpty();
            header = in.readLine()) {
          // headers are not needed
        }
        String response;
        if (requestLine != null && requestLine.contains("waitForChange=v2")) {
          Thread.sleep(1000);
          response = "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n";
        } else {
          boolean change = requestLine != null && requestLine.contains("waitForChange=v1");
          String body =
              "{\"Name\":\"db\",\"VersionId\":\""
                  + (change ? "v2" : "v1")
                  + "\",\"VersionStages\":[\"CURRENT\"],"
                  + "\"SecretString\":"
                  + Json.write(change ? VALUE_V2 : VALUE_V1)
                  + ",\"CreatedDate\":\"2026-11-29T03:00:00Z\"}";
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          response =
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                  + bytes.length
                  + "\r\nConnection: close\r\n\r\n"
                  + body;
        }
        socket.getOutputStream().write(response.getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
      } catch (IOException | InterruptedException e) {
        // closed
      }
    }
  }
}
