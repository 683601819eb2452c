package io.keywarden.injector.tls;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.injector.config.InjectorConfig;
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
import java.security.cert.Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The webhook's TLS bootstrap and renewal. It is the key store of the Quarkus TLS configuration
 * {@value #TLS_CONFIGURATION} (application.properties points the HTTPS server at it): Quarkus asks
 * for the key store while it initialises TLS, before the HTTP server opens its ports, so the
 * certificate is loaded from or written to the Secret, and the caBundle patched, before the first
 * request. A periodic check renews and hands the new certificate to the {@link RotatingKeyManager}
 * the server uses: no restart, no failed handshake.
 */
@ApplicationScoped
@Identifier(WebhookCertificates.TLS_CONFIGURATION)
public class WebhookCertificates implements KeyStoreProvider {

  public static final String TLS_CONFIGURATION = "keywarden-webhook";
  private static final Logger LOG = Logger.getLogger(WebhookCertificates.class);
  private static final int WRITE_ATTEMPTS = 5;

  private final TlsSecretStore store;
  private final CaBundlePatcher caBundle;
  private final RenewalPolicy policy;
  private final InjectorConfig config;
  private final RotatingKeyManager keyManager = new RotatingKeyManager();
  private final Clock clock = Clock.systemUTC();
  private volatile TlsMaterial current;
  private ScheduledExecutorService scheduler;

  public WebhookCertificates(KubernetesClient client, InjectorConfig config) {
    this.config = config;
    this.store = new TlsSecretStore(client, config.namespace(), config.tls().secretName());
    this.caBundle = new CaBundlePatcher(client, config.webhookConfiguration());
    SubjectAlternativeNames names =
        SubjectAlternativeNames.of(
            config.serviceName(), config.namespace(), config.tls().extraSans().orElse(List.of()));
    this.policy = new RenewalPolicy(new CertificateIssuer(), names, config.tls().renewBefore());
  }

  /** Called by the TLS registry once at startup, before the HTTPS port opens. */
  @Override
  public KeyStoreAndKeyCertOptions getKeyStore(Vertx vertx) {
    TlsMaterial material = current == null ? refresh() : current;
    try {
      // The key store is for whoever inspects the TLS configuration; the server uses the key
      // manager.
      KeyStore keyStore = KeyStore.getInstance("PKCS12");
      keyStore.load(null, null);
      keyStore.setKeyEntry(
          TLS_CONFIGURATION,
          material.serving().key(),
          new char[0],
          new Certificate[] {material.serving().certificate(), material.ca().certificate()});
      return new KeyStoreAndKeyCertOptions(keyStore, KeyCertOptions.wrap(keyManager));
    } catch (Exception e) {
      throw new IllegalStateException("cannot build the webhook key store", e);
    }
  }

  void startChecks(@Observes StartupEvent event) {
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "keywarden-webhook-tls");
              thread.setDaemon(true);
              return thread;
            });
    long interval = config.tls().checkInterval().toMillis();
    scheduler.scheduleWithFixedDelay(this::check, interval, interval, TimeUnit.MILLISECONDS);
  }

  void stopChecks(@Observes ShutdownEvent event) {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }

  /** One periodic check; failures are logged and retried at the next check, long before expiry. */
  void check() {
    try {
      TlsMaterial before = current;
      TlsMaterial after = refresh();
      if (before != null && !before.serving().certificate().equals(after.serving().certificate())) {
        LOG.infof(
            "webhook serving certificate swapped, valid until %s", after.serving().notAfter());
      }
    } catch (RuntimeException e) {
      LOG.errorf(
          e, "webhook certificate check failed; retrying in %s", config.tls().checkInterval());
    }
  }

  /**
   * Reads the Secret, renews what the policy says, writes back with optimistic concurrency (a
   * replica that loses the race adopts the winner's material) and patches the caBundle.
   */
  synchronized TlsMaterial refresh() {
    for (int attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      Instant now = clock.instant();
      TlsSecretStore.Stored stored = store.read();
      RenewalPolicy.Action action = policy.decide(stored.material(), now);
      TlsMaterial material = policy.renew(stored.material(), now);
      if (action == RenewalPolicy.Action.KEEP || store.write(material, stored.resourceVersion())) {
        if (action != RenewalPolicy.Action.KEEP) {
          LOG.infof(
              "webhook TLS %s: serving certificate valid until %s, CA until %s",
              action, material.serving().notAfter(), material.ca().notAfter());
        }
        caBundle.patch(material.caBundlePem(now));
        // Also when another replica renewed: serve what the Secret has.
        if (current == null
            || !current.serving().certificate().equals(material.serving().certificate())) {
          keyManager.use(material.serving(), material.ca().certificate());
        }
        current = material;
        return material;
      }
      LOG.debugf("Secret %s changed concurrently; reading it again", config.tls().secretName());
    }
    throw new IllegalStateException(
        "could not store the webhook certificate in Secret "
            + config.tls().secretName()
            + " after "
            + WRITE_ATTEMPTS
            + " attempts");
  }
}
