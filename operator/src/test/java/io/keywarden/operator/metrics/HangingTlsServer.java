package io.keywarden.operator.metrics;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * An HTTPS endpoint on loopback that completes the TLS handshake and then never answers, as a
 * rotation hook that hangs: the caller waits for its own timeout. Its self-signed certificate for
 * 127.0.0.1 comes from the JDK's keytool.
 */
final class HangingTlsServer implements AutoCloseable {

  private static final char[] PASSWORD = "hanging".toCharArray();

  private final SSLServerSocket server;
  private final String certificatePem;
  private final List<Socket> held = new ArrayList<>();

  private HangingTlsServer(SSLServerSocket server, String certificatePem) {
    this.server = server;
    this.certificatePem = certificatePem;
  }

  static HangingTlsServer start() throws Exception {
    Path dir = Files.createTempDirectory("keywarden-hanging-hook");
    Path store = dir.resolve("hook.p12");
    keytool(
        "-genkeypair",
        "-alias",
        "hook",
        "-keyalg",
        "EC",
        "-dname",
        "CN=127.0.0.1",
        "-ext",
        "san=ip:127.0.0.1",
        "-validity",
        "2",
        "-keystore",
        store.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        new String(PASSWORD));
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(store)) {
      keys.load(in, PASSWORD);
    }
    Files.delete(store);
    Files.delete(dir);
    String pem =
        "-----BEGIN CERTIFICATE-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes())
                .encodeToString(keys.getCertificate("hook").getEncoded())
            + "\n-----END CERTIFICATE-----\n";
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, PASSWORD);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), null, null);
    SSLServerSocket socket =
        (SSLServerSocket)
            tls.getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    HangingTlsServer server = new HangingTlsServer(socket, pem);
    Thread acceptor = new Thread(server::accept, "hanging-hook");
    acceptor.setDaemon(true);
    acceptor.start();
    return server;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        SSLSocket socket = (SSLSocket) server.accept();
        synchronized (held) {
          held.add(socket);
        }
        Thread handshake =
            new Thread(
                () -> {
                  try {
                    socket.startHandshake();
                  } catch (IOException e) {
                    // The caller gave up; nothing to answer anyway.
                  }
                },
                "hanging-hook-handshake");
        handshake.setDaemon(true);
        handshake.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  int port() {
    return server.getLocalPort();
  }

  String certificatePem() {
    return certificatePem;
  }

  private static void keytool(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException("keytool failed: " + output);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    synchronized (held) {
      for (Socket socket : held) {
        socket.close();
      }
    }
  }
}
