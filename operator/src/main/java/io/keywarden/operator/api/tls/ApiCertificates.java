package io.keywarden.operator.api.tls;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.tls.CertificateIssuer;
import io.keywarden.tls.CertificateRefresher;
import io.keywarden.tls.CertificateSource;
import io.keywarden.tls.MountedCertificate;
import io.keywarden.tls.RenewalPolicy;
import io.keywarden.tls.RenewalSettings;
import io.keywarden.tls.SelfIssuedCertificates;
import io.keywarden.tls.SubjectAlternativeNames;
import io.keywarden.tls.TlsSecretStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.X509KeyManager;
import org.jboss.logging.Logger;

/**
 * The secret-value API's serving certificate, kept current while the process runs. With {@code
 * keywarden.api.cert-file} and {@code key-file}: those files (cert-manager, a mounted Secret),
 * reloaded when their contents change. Otherwise a private CA and certificate the replicas issue
 * themselves into the Secret {@code keywarden.api.tls-secret-name}, renewed at the renewal point,
 * with the CA bundle published for clients (see {@link ApiCaPublisher}).
 */
@ApplicationScoped
public class ApiCertificates {

  private static final Logger LOG = Logger.getLogger(ApiCertificates.class);

  private final KubernetesClient client;
  private final KeywardenConfig config;
  private final MeterRegistry registry;
  private CertificateRefresher refresher;

  public ApiCertificates(KubernetesClient client, KeywardenConfig config, MeterRegistry registry) {
    this.client = client;
    this.config = config;
    this.registry = registry;
  }

  /**
   * Loads the first certificate (throws when there is none to serve) and starts the checks.
   *
   * @return the key manager for the HTTPS server; it always serves the current certificate
   */
  public synchronized X509KeyManager start() {
    if (refresher == null) {
      refresher =
          new CertificateRefresher(
              "api", source(), config.api().tls().checkInterval(), Clock.systemUTC());
      var first = refresher.load();
      LOG.infof("API serving certificate %s", first);
      refresher.start();
      // The certificate served now, for the KeywardenCertificateExpiring alert.
      Gauge.builder(
              "keywarden.certificate.expiry.timestamp",
              refresher,
              r -> r.current().leaf().getNotAfter().getTime() / 1000.0)
          .baseUnit("seconds")
          .tag("certificate", "api")
          .description("notAfter of the serving certificate")
          .register(registry);
    }
    return refresher.keyManager();
  }

  void stop(@Observes ShutdownEvent event) {
    if (refresher != null) {
      refresher.close();
    }
  }

  private CertificateSource source() {
    KeywardenConfig.Api api = config.api();
    if (api.certFile().isPresent() != api.keyFile().isPresent()) {
      throw new IllegalStateException(
          "keywarden.api.cert-file and keywarden.api.key-file must be set together (only "
              + (api.certFile().isPresent() ? "cert-file" : "key-file")
              + " is)");
    }
    if (api.certFile().isPresent()) {
      return new MountedCertificate(Path.of(api.certFile().get()), Path.of(api.keyFile().get()));
    }
    RenewalSettings settings = RenewalSettings.of("keywarden.api.tls", api.tls());
    String namespace = config.namespace();
    return new SelfIssuedCertificates(
        "API",
        new TlsSecretStore(
            client,
            namespace,
            api.tlsSecretName(),
            Map.of(
                "app.kubernetes.io/part-of", "keywarden",
                "app.kubernetes.io/component", "api-tls")),
        new RenewalPolicy(new CertificateIssuer("keywarden-operator", settings), names(config)),
        new ApiCaPublisher(client, namespace)::publish,
        Clock.systemUTC());
  }

  /**
   * The Service's names (the injector gives agents {@code keywarden-operator.<ns>.svc}), the short
   * forms for clients in the namespace, loopback for local runs, and the configured extras.
   */
  static SubjectAlternativeNames names(KeywardenConfig config) {
    List<String> names = new ArrayList<>(List.of("keywarden-operator", "localhost", "127.0.0.1"));
    names.add("keywarden-operator." + config.namespace());
    config.api().extraSans().ifPresent(names::addAll);
    return SubjectAlternativeNames.of("keywarden-operator", config.namespace(), names);
  }
}
