package io.keywarden.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A self-signed serving certificate for 127.0.0.1, made once per test JVM with the JDK's keytool,
 * so that TLS is tested the way the agent meets it: a private CA handed over in KEYWARDEN_API_CA.
 */
public record TestTls(SSLContext serverContext, String caPem) {

  private static final String PASSWORD = "changeit";
  private static TestTls instance;

  public static synchronized TestTls get() {
    if (instance == null) {
      instance = create();
    }
    return instance;
  }

  private static TestTls create() {
    try {
      Path dir = Files.createTempDirectory("keywarden-test-tls");
      Path keyStore = dir.resolve("server.p12");
      keytool(
          "-genkeypair",
          "-alias",
          "server",
          "-keyalg",
          "EC",
          "-groupname",
          "secp256r1",
          "-dname",
          "CN=keywarden-test",
          "-ext",
          "san=ip:127.0.0.1,dns:localhost",
          "-validity",
          "2",
          "-keystore",
          keyStore.toString(),
          "-storetype",
          "PKCS12",
          "-storepass",
          PASSWORD,
          "-keypass",
          PASSWORD);
      String pem =
          keytool(
              "-exportcert",
              "-rfc",
              "-alias",
              "server",
              "-keystore",
              keyStore.toString(),
              "-storepass",
              PASSWORD);
      KeyStore store = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(keyStore)) {
        store.load(in, PASSWORD.toCharArray());
      }
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, PASSWORD.toCharArray());
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      // Everything is in memory now; the key store is not needed any more.
      Files.delete(keyStore);
      Files.delete(dir);
      return new TestTls(context, pem);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String keytool(String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    try {
      if (process.waitFor() != 0) {
        throw new IOException("keytool failed: " + output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    return output;
  }
}
