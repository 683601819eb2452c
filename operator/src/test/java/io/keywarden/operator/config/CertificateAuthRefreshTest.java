package io.keywarden.operator.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.utils.TokenRefreshInterceptor;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthRefreshTest {

  @TempDir Path dir;

  @Test
  void aCertificateOnlyConfigIsNotReReadBeforeRequests() throws IOException {
    Path kubeconfig = kubeconfig("client-certificate-data: " + PEM_PLACEHOLDER);
    Config config = Config.fromKubeconfig(null, kubeconfig.toFile());
    new CertificateAuthRefresh().customize(config);
    // Were the file re-read, the token added now would show in the request.
    kubeconfig("client-certificate-data: " + PEM_PLACEHOLDER + "\n    token: added-later");

    assertThat(headersOfARequest(config)).doesNotContainKey("Authorization");
  }

  @Test
  void withoutItTheFileIsReReadOnceTheMinuteHasPassed() throws IOException {
    // What the customizer prevents: Fabric8 re-reads the kubeconfig (and would on every request,
    // since it never finds a token that resets the minute).
    Path kubeconfig = kubeconfig("client-certificate-data: " + PEM_PLACEHOLDER);
    Config config = Config.fromKubeconfig(null, kubeconfig.toFile());
    kubeconfig("client-certificate-data: " + PEM_PLACEHOLDER + "\n    token: added-later");

    assertThat(headersOfARequest(config)).containsEntry("Authorization", "Bearer added-later");
  }

  @Test
  void tokenConfigsKeepTheirRefresh() throws IOException {
    Config config = Config.fromKubeconfig(null, kubeconfig("token: a-token").toFile());
    new CertificateAuthRefresh().customize(config);

    assertThat(config.getOauthTokenProvider()).isNull();
    assertThat(headersOfARequest(config)).containsEntry("Authorization", "Bearer a-token");
  }

  @Test
  void onlyACertificateWithoutAnyTokenOrPasswordCounts() throws IOException {
    assertThat(
            CertificateAuthRefresh.certificateOnly(
                Config.fromKubeconfig(
                    null, kubeconfig("client-certificate-data: " + PEM_PLACEHOLDER).toFile())))
        .isTrue();
    assertThat(
            CertificateAuthRefresh.certificateOnly(
                Config.fromKubeconfig(
                    null,
                    kubeconfig("client-certificate-data: " + PEM_PLACEHOLDER + "\n    token: t")
                        .toFile())))
        .isFalse();
    assertThat(
            CertificateAuthRefresh.certificateOnly(
                Config.fromKubeconfig(null, kubeconfig("username: u\n    password: p").toFile())))
        .isFalse();
  }

  /** Base64 of a placeholder: the client only decodes the certificate when it opens TLS. */
  private static final String PEM_PLACEHOLDER = "Y2VydGlmaWNhdGU=";

  private Path kubeconfig(String user) throws IOException {
    Path file = dir.resolve("kubeconfig");
    Files.writeString(
        file,
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster:
            server: https://127.0.0.1:6443
        users:
        - name: u
          user:
            %s
        contexts:
        - name: ctx
          context:
            cluster: c
            user: u
        current-context: ctx
        """
            .formatted(user));
    return file;
  }

  /** The headers the client's token interceptor sets, a minute after the last refresh. */
  private static Map<String, String> headersOfARequest(Config config) {
    Map<String, String> headers = new HashMap<>();
    new TokenRefreshInterceptor(
            config, Instant.now().minusSeconds(120), c -> CompletableFuture.completedFuture(null))
        .before(new Headers(headers), null, null);
    return headers;
  }

  private record Headers(Map<String, String> headers) implements BasicBuilder {
    @Override
    public BasicBuilder uri(URI uri) {
      return this;
    }

    @Override
    public BasicBuilder header(String k, String v) {
      headers.put(k, v);
      return this;
    }

    @Override
    public BasicBuilder setHeader(String k, String v) {
      headers.put(k, v);
      return this;
    }
  }
}
