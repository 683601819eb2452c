package io.keywarden.injector.webhook;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.injector.Annotations;
import io.keywarden.injector.config.InjectorConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

/**
 * Keeps readiness DOWN until one synthetic pod went through the webhook the way the apiserver sends
 * pods: an AdmissionReview POSTed over HTTPS to {@link PodMutatingWebhook#PATH} on this process's
 * own port, through TLS, the REST layer, Jackson, the webhook framework and the mutation. The first
 * admission after a start otherwise spent over 5 s loading classes (issue 13), beyond the
 * apiserver's timeout, while readiness already said UP. The synthetic pod is only built in memory;
 * nothing is stored.
 */
@Readiness
@ApplicationScoped
public class AdmissionWarmup implements HealthCheck {

  private static final Logger LOG = Logger.getLogger(AdmissionWarmup.class);
  private static final Duration GIVE_UP_AFTER = Duration.ofSeconds(60);

  private final InjectorConfig config;
  private final KubernetesClient client;
  private final PodMutatingWebhook webhook;
  private volatile boolean warm;

  public AdmissionWarmup(
      InjectorConfig config, KubernetesClient client, PodMutatingWebhook webhook) {
    this.config = config;
    this.client = client;
    this.webhook = webhook;
  }

  void start(@Observes StartupEvent event) {
    if (!config.admissionWarmup()) {
      warm = true;
      return;
    }
    Thread thread = new Thread(this::warmUp, "keywarden-admission-warmup");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("keywarden-admission-warm").status(warm).build();
  }

  private void warmUp() {
    long start = System.nanoTime();
    Exception last = null;
    while (System.nanoTime() - start < GIVE_UP_AFTER.toNanos()) {
      try {
        HttpResponse<String> response = post();
        if (response.statusCode() == 200) {
          LOG.infof(
              "admission path warmed: a synthetic pod was admitted over HTTPS in %d ms",
              (System.nanoTime() - start) / 1_000_000);
          warm = true;
          return;
        }
        last = new IllegalStateException("HTTP " + response.statusCode());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        last = e;
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    // Still run the mutation itself, then report ready: a replica that never becomes ready would
    // be worse than one whose first admission is slow.
    try {
      webhook.handle(review());
    } catch (RuntimeException e) {
      LOG.debugf(e, "in-process warm-up admission failed");
    }
    LOG.warnf(
        "admission path warmed in process only: the HTTPS self-call failed for %s (%s)",
        GIVE_UP_AFTER, last);
    warm = true;
  }

  private HttpResponse<String> post() throws Exception {
    HttpClient http =
        HttpClient.newBuilder()
            .sslContext(trustingOwnCa())
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:" + config.port() + PodMutatingWebhook.PATH))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    client.getKubernetesSerialization().asJson(review())))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** Trusts only the CA this injector serves under, from its TLS Secret. */
  private SSLContext trustingOwnCa() throws Exception {
    Secret secret =
        client.secrets().inNamespace(config.namespace()).withName(config.tls().secretName()).get();
    if (secret == null || secret.getData() == null || !secret.getData().containsKey("ca.crt")) {
      throw new IllegalStateException("the TLS Secret has no ca.crt yet");
    }
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    int i = 0;
    for (var certificate :
        CertificateFactory.getInstance("X.509")
            .generateCertificates(
                new ByteArrayInputStream(
                    Base64.getDecoder().decode(secret.getData().get("ca.crt"))))) {
      trust.setCertificateEntry("ca-" + i++, certificate);
    }
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, factory.getTrustManagers(), null);
    return ssl;
  }

  /**
   * A pod that takes the long way through the mutation: two containers of one user, several files,
   * formats, stages, a mode and a signal. Its namespace is never a real one.
   */
  private static AdmissionReview review() {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("keywarden-warmup")
            .withNamespace("keywarden-warmup")
            .addToLabels(Annotations.INJECT_LABEL, Annotations.INJECT_ENABLED)
            .withAnnotations(
                Map.of(
                    Annotations.SECRET_PREFIX + "db",
                    "warmup",
                    Annotations.SECRET_PREFIX + "app.env",
                    "warmup",
                    Annotations.FORMAT_PREFIX + "app.env",
                    "env",
                    Annotations.KEY_PREFIX + "db",
                    "password",
                    Annotations.STAGE_PREFIX + "db",
                    "PREVIOUS",
                    Annotations.FILE_MODE,
                    "0400",
                    Annotations.REFRESH,
                    "1h30m",
                    Annotations.ON_CHANGE,
                    "signal:SIGHUP"))
            .endMetadata()
            .withNewSpec()
            .withNewSecurityContext()
            .withRunAsUser(1000L)
            .endSecurityContext()
            .addNewContainer()
            .withName("app")
            .withImage("example/app:1")
            .endContainer()
            .addNewContainer()
            .withName("worker")
            .withImage("example/worker:1")
            .endContainer()
            .endSpec()
            .build();
    return new AdmissionReviewBuilder()
        .withNewRequest()
        .withUid("keywarden-warmup")
        .withOperation("CREATE")
        .withNamespace("keywarden-warmup")
        .withNewKind("", "Pod", "v1")
        .withNewResource("", "pods", "v1")
        .withObject(pod)
        .endRequest()
        .build();
  }
}
