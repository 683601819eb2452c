package io.keywarden.injector.tls;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.injector.config.InjectorConfig;
import io.keywarden.tls.CertificateIssuer;
import io.keywarden.tls.CertificateRefresher;
import io.keywarden.tls.RenewalPolicy;
import io.keywarden.tls.RenewalSettings;
import io.keywarden.tls.SelfIssuedCertificates;
import io.keywarden.tls.ServingCertificate;
import io.keywarden.tls.SubjectAlternativeNames;
import io.keywarden.tls.TlsSecretStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.tls.runtime.KeyStoreAndKeyCertOptions;
import io.quarkus.tls.runtime.KeyStoreProvider;
import io.smallrye.common.annotation.Identifier;
import io.vertx.core.Vertx;
import io.vertx.core.net.KeyCertOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.security.KeyStore;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * The webhook's TLS bootstrap and renewal. It is the key store of the Quarkus TLS configuration
 * {@value #TLS_CONFIGURATION} (application.properties points the HTTPS server at it): Quarkus asks
 * for the key store while it initialises TLS, before the HTTP server opens its ports, so the
 * certificate is loaded from or written to the Secret, and the caBundle patched, before the first
 * request. From then on a {@link CertificateRefresher} renews at the renewal point (or adopts
 * another replica's renewal at the next check) and hands the new certificate to the key manager the
 * server uses: no restart, no failed handshake.
 */
@ApplicationScoped
@Identifier(WebhookCertificates.TLS_CONFIGURATION)
public class WebhookCertificates implements KeyStoreProvider {

  public static final String TLS_CONFIGURATION = "keywarden-webhook";

  private final SelfIssuedCertificates certificates;
  private final CertificateRefresher refresher;

  public WebhookCertificates(KubernetesClient client, InjectorConfig config) {
    InjectorConfig.Tls tls = config.tls();
    RenewalSettings settings = RenewalSettings.of("keywarden.injector.tls", tls);
    SubjectAlternativeNames names =
        SubjectAlternativeNames.of(config.serviceName(), config.namespace(), sans(tls));
    CaBundlePatcher caBundle = new CaBundlePatcher(client, config.webhookConfiguration());
    this.certificates =
        new SelfIssuedCertificates(
            "webhook",
            new TlsSecretStore(
                client,
                config.namespace(),
                tls.secretName(),
                Map.of(
                    "app.kubernetes.io/name", "keywarden-injector",
                    "app.kubernetes.io/component", "webhook-tls")),
            new RenewalPolicy(new CertificateIssuer("keywarden-injector", settings), names),
            caBundle::patch,
            Clock.systemUTC());
    this.refresher =
        new CertificateRefresher("webhook", certificates, tls.checkInterval(), Clock.systemUTC());
  }

  /**
   * The configured extra names plus 127.0.0.1: the admission warm-up ({@code AdmissionWarmup})
   * calls this process's own port on loopback and verifies the name, so without it the warm-up
   * fails in every pod and readiness waits out its 60 s limit (seen on the test node).
   */
  static List<String> sans(InjectorConfig.Tls tls) {
    List<String> sans = new java.util.ArrayList<>(tls.extraSans().orElse(List.of()));
    if (!sans.contains(LOOPBACK)) {
      sans.add(LOOPBACK);
    }
    return List.copyOf(sans);
  }

  private static final String LOOPBACK = "127.0.0.1";

  /** Called by the TLS registry once at startup, before the HTTPS port opens. */
  @Override
  public KeyStoreAndKeyCertOptions getKeyStore(Vertx vertx) {
    ServingCertificate serving =
        refresher.current() == null ? refresher.load() : refresher.current();
    try {
      // The key store is for whoever inspects the TLS configuration; the server uses the key
      // manager.
      KeyStore keyStore = KeyStore.getInstance("PKCS12");
      keyStore.load(null, null);
      keyStore.setKeyEntry(TLS_CONFIGURATION, serving.key(), new char[0], serving.chain());
      return new KeyStoreAndKeyCertOptions(keyStore, KeyCertOptions.wrap(refresher.keyManager()));
    } catch (Exception e) {
      throw new IllegalStateException("cannot build the webhook key store", e);
    }
  }

  void startChecks(@Observes StartupEvent event, MeterRegistry registry) {
    refresher.start();
    // The certificate served now, for the KeywardenCertificateExpiring alert.
    Gauge.builder(
            "keywarden.certificate.expiry.timestamp",
            refresher,
            r ->
                r.current() == null
                    ? Double.NaN
                    : r.current().leaf().getNotAfter().getTime() / 1000.0)
        .baseUnit("seconds")
        .tag("certificate", "webhook")
        .description("notAfter of the serving certificate")
        .register(registry);
  }

  void stopChecks(@Observes ShutdownEvent event) {
    refresher.close();
  }
}
