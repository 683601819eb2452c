package io.keywarden.operator.api;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** What an application does: HTTPS with the published CA and a bearer ServiceAccount token. */
public final class ApiClient {

  private final String base;
  private final HttpClient http;

  public ApiClient(String base, String caPem) throws Exception {
    this.base = base;
    SSLContext ssl = trusting(caPem);
    this.http =
        HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** A TLS context that trusts only the API's published CA (PEM). */
  static SSLContext trusting(String caPem) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry(
        "keywarden-api-ca",
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII))));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return ssl;
  }

  public HttpResponse<String> get(String path, String token) throws Exception {
    return http.send(request(path, token).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  public CompletableFuture<HttpResponse<String>> getAsync(String path, String token) {
    return http.sendAsync(
        request(path, token).GET().timeout(Duration.ofSeconds(120)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> put(String path, String token, String body) throws Exception {
    return http.send(
        request(path, token)
            .PUT(HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json")
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A PUT whose body is exactly these bytes, whatever their encoding. */
  public HttpResponse<String> putBytes(String path, String token, byte[] body) throws Exception {
    return http.send(
        request(path, token)
            .PUT(HttpRequest.BodyPublishers.ofByteArray(body))
            .header("Content-Type", "application/json")
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A GET answered as raw bytes, to check the response's own encoding. */
  public HttpResponse<byte[]> getBytes(String path, String token) throws Exception {
    return http.send(request(path, token).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  public HttpResponse<String> delete(String path, String token) throws Exception {
    return http.send(request(path, token).DELETE().build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> post(String path, String token) throws Exception {
    return http.send(
        request(path, token).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * An AWS Secrets Manager call as the SDKs send it: {@code POST /}, {@code X-Amz-Target:
   * secretsmanager.<operation>}, an awsJson1.1 body; {@code operation} null sends no X-Amz-Target.
   */
  public HttpResponse<String> aws(String operation, String token, String body) throws Exception {
    HttpRequest.Builder builder =
        request("/", token)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/x-amz-json-1.1");
    if (operation != null) {
      builder.header("X-Amz-Target", "secretsmanager." + operation);
    }
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder request(String path, String token) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      builder.header("Authorization", "Bearer " + token);
    }
    return builder;
  }
}
