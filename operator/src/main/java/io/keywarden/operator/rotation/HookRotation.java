package io.keywarden.operator.rotation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.RotationStrategy;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.RotationFailedException;
import io.keywarden.operator.generate.ValueGenerator;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Your HTTPS endpoint applies and tests the new value: the operator POSTs the setSecret and
 * testSecret steps (and rollbackSecret after a failed test) with the pending and current values,
 * authenticated by a token of the operator's ServiceAccount bound to the hook's audience, so the
 * endpoint can verify the caller with TokenReview. Any 2xx answer is success.
 */
@ApplicationScoped
public class HookRotation implements RotationHandler {

  public static final String DEFAULT_AUDIENCE = "keywarden-hook";
  private final ValueGenerator generator;
  private final KubernetesClient client;
  private final KeywardenConfig config;
  private final ObjectMapper json;

  public HookRotation(
      ValueGenerator generator,
      KubernetesClient client,
      KeywardenConfig config,
      ObjectMapper json) {
    this.generator = generator;
    this.client = client;
    this.config = config;
    this.json = json;
  }

  @Override
  public RotationStrategy.Type type() {
    return RotationStrategy.Type.hook;
  }

  @Override
  public SecretValue newValue(RotationContext context) {
    return GenerateRotation.regenerate(generator, context);
  }

  @Override
  public void set(RotationContext context) {
    call(context, "setSecret");
  }

  @Override
  public void test(RotationContext context) {
    call(context, "testSecret");
  }

  @Override
  public void rollback(RotationContext context) {
    call(context, "rollbackSecret");
  }

  private void call(RotationContext context, String step) {
    RotationStrategy.HookStrategy hook = context.strategy().getHook();
    ObjectNode body = json.createObjectNode();
    body.put("step", step);
    body.put("namespace", context.namespace());
    body.put("name", context.name());
    body.put("currentVersionId", context.currentVersionId());
    body.put("pendingVersionId", context.pendingVersionId());
    SecretValue pending = context.pendingValue();
    SecretValue current = context.current().get();
    try {
      putValue(body, "pendingValue", pending);
      putValue(body, "currentValue", current);
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(hook.getUrl()))
              .timeout(
                  Duration.ofSeconds(
                      hook.getTimeoutSeconds() == null ? 30 : hook.getTimeoutSeconds()))
              .header("Content-Type", "application/json")
              .header("Authorization", "Bearer " + token(hook))
              .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
              .build();
      HttpResponse<Void> response =
          http(hook).send(request, HttpResponse.BodyHandlers.discarding());
      if (response.statusCode() / 100 != 2) {
        // The body is not repeated: a hook might echo what it was sent.
        throw new RotationFailedException(
            ManagedSecretConditions.ROTATION_HOOK_FAILED,
            "spec.strategy.hook.url: " + step + " answered HTTP " + response.statusCode());
      }
    } catch (IOException e) {
      throw new RotationFailedException(
          ManagedSecretConditions.ROTATION_HOOK_UNREACHABLE,
          "spec.strategy.hook.url: "
              + hook.getUrl()
              + " is unreachable ("
              + e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : ": " + e.getMessage())
              + ")",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RotationFailedException(
          ManagedSecretConditions.ROTATION_HOOK_FAILED, "interrupted while calling the hook", e);
    } finally {
      body.removeAll();
      pending.wipe();
      current.wipe();
    }
  }

  /**
   * A text value as a JSON string under {@code field}; a binary one as base64 under {@code field +
   * "Binary"} (SecretString and SecretBinary's split), so that no value reaches the hook altered.
   */
  static void putValue(ObjectNode body, String field, SecretValue value) {
    if (value.isBinary()) {
      byte[] bytes = value.bytes();
      try {
        body.put(field + "Binary", java.util.Base64.getEncoder().encodeToString(bytes));
      } finally {
        java.util.Arrays.fill(bytes, (byte) 0);
      }
    } else {
      body.put(field, value.asString());
    }
  }

  private String token(RotationStrategy.HookStrategy hook) {
    String audience =
        hook.getAudience() == null || hook.getAudience().isBlank()
            ? DEFAULT_AUDIENCE
            : hook.getAudience();
    String account = config.rotation().serviceAccount();
    try {
      return client
          .serviceAccounts()
          .inNamespace(config.namespace())
          .withName(account)
          .tokenRequest(
              new TokenRequestBuilder()
                  .withNewSpec()
                  .withAudiences(audience)
                  .withExpirationSeconds(600L)
                  .endSpec()
                  .build())
          .getStatus()
          .getToken();
    } catch (KubernetesClientException e) {
      throw new RotationFailedException(
          ManagedSecretConditions.ROTATION_HOOK_AUTH_FAILED,
          "cannot get a token of ServiceAccount "
              + config.namespace()
              + "/"
              + account
              + " for audience "
              + audience
              + ": "
              + e.getCode(),
          e);
    }
  }

  private static HttpClient http(RotationStrategy.HookStrategy hook) {
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
    if (hook.getCaBundle() != null && !hook.getCaBundle().isBlank()) {
      try {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        int i = 0;
        // The JDK reads a PEM bundle of several certificates by itself.
        for (var certificate :
            java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificates(
                    new java.io.ByteArrayInputStream(
                        hook.getCaBundle().getBytes(java.nio.charset.StandardCharsets.US_ASCII)))) {
          trust.setCertificateEntry("ca-" + i++, certificate);
        }
        if (i == 0) {
          throw new IllegalArgumentException("no certificate in spec.strategy.hook.caBundle");
        }
        TrustManagerFactory tmf =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        builder.sslContext(ssl);
      } catch (Exception e) {
        throw new RotationFailedException(
            ManagedSecretConditions.ROTATION_HOOK_FAILED,
            "spec.strategy.hook.caBundle is not a PEM certificate bundle",
            e);
      }
    }
    return builder.build();
  }
}
