package io.keywarden.operator.api;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A plain-HTTP loopback relay of GET /v1/aws/credentials to the API (Authorization passed through,
 * answer passed back), standing where a pod's sidecar would: botocore fetches container credentials
 * with its bundled certifi CAs and ignores AWS_CA_BUNDLE, so it cannot reach an HTTPS endpoint
 * signed by Keywarden's own CA, while plain HTTP is allowed on loopback.
 */
final class CredentialsRelay implements AutoCloseable {

  private final HttpServer server;

  CredentialsRelay(String apiBase, String caPem) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry(
        "ca",
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII))));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    HttpClient http =
        HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(30)).build();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    server.createContext(
        "/v1/aws/credentials",
        exchange -> {
          try (exchange) {
            HttpRequest.Builder forward =
                HttpRequest.newBuilder(URI.create(apiBase + "/v1/aws/credentials"))
                    .timeout(Duration.ofSeconds(30));
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            if (authorization != null) {
              forward.header("Authorization", authorization);
            }
            HttpResponse<byte[]> answer =
                http.send(forward.GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(answer.statusCode(), answer.body().length);
            exchange.getResponseBody().write(answer.body());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    server.start();
  }

  String uri() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/aws/credentials";
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
