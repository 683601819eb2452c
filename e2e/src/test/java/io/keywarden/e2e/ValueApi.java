package io.keywarden.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** The secret-value API as a user calls it: HTTPS trusting the published CA, a bearer token. */
final class ValueApi {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String url;
  private final HttpClient http;

  ValueApi(String url, String caPem) throws Exception {
    this.url = url;
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    int i = 0;
    for (Certificate ca :
        CertificateFactory.getInstance("X.509")
            .generateCertificates(
                new ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII)))) {
      trust.setCertificateEntry("ca-" + i++, ca);
    }
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, factory.getTrustManagers(), null);
    this.http =
        HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** GetSecretValue at CURRENT; returns the SecretString. */
  String get(String token, String namespace, String name) throws Exception {
    HttpResponse<String> response =
        http.send(
            request(token, namespace, name).GET().build(), HttpResponse.BodyHandlers.ofString());
    check(response, 200, "GetSecretValue");
    return JSON.readTree(response.body()).get("SecretString").asText();
  }

  /** PutSecretValue; returns the new version id once the API has answered. */
  String put(String token, String namespace, String name, String secretString) throws Exception {
    String body = JSON.createObjectNode().put("SecretString", secretString).toString();
    HttpResponse<String> response =
        http.send(
            request(token, namespace, name)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    check(response, 200, "PutSecretValue");
    JsonNode answer = JSON.readTree(response.body());
    return answer.get("VersionId").asText();
  }

  private HttpRequest.Builder request(String token, String namespace, String name) {
    return HttpRequest.newBuilder(
            URI.create(url + "/v1/namespaces/" + namespace + "/managedsecrets/" + name + "/value"))
        .header("Authorization", "Bearer " + token)
        .timeout(Duration.ofSeconds(10));
  }

  private static void check(HttpResponse<String> response, int expected, String action) {
    if (response.statusCode() != expected) {
      throw new IllegalStateException(
          action + " answered " + response.statusCode() + ": " + response.body());
    }
  }
}
