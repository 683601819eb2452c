package io.keywarden.tls;

import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * A private CA and serving certificate that the replicas of one server make and renew themselves,
 * kept in a Secret so every replica serves the same. Each load reads the Secret, renews what the
 * {@link RenewalPolicy} says, and writes back with optimistic concurrency: replicas that renew at
 * the same moment agree on one result (the loser adopts the winner's). The CA bundle clients must
 * trust goes to {@code publishCaBundle} after every load (a webhook's caBundle, the API's
 * ConfigMap), so it is re-published should someone have removed it.
 */
public final class SelfIssuedCertificates implements CertificateSource {

  private static final Logger LOG = Logger.getLogger(SelfIssuedCertificates.class);
  private static final int WRITE_ATTEMPTS = 5;

  private final String label;
  private final TlsSecretStore store;
  private final RenewalPolicy policy;
  private final Consumer<String> publishCaBundle;
  private final Clock clock;

  /**
   * @param label what the certificate is for, in log lines ("webhook", "API")
   */
  public SelfIssuedCertificates(
      String label,
      TlsSecretStore store,
      RenewalPolicy policy,
      Consumer<String> publishCaBundle,
      Clock clock) {
    this.label = label;
    this.store = store;
    this.policy = policy;
    this.publishCaBundle = publishCaBundle;
    this.clock = clock;
  }

  @Override
  public ServingCertificate load() {
    TlsMaterial material = refresh();
    return new ServingCertificate(
        material.chain(), material.serving().key(), Optional.of(policy.nextDecisionAt(material)));
  }

  private synchronized TlsMaterial refresh() {
    for (int attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      Instant now = clock.instant();
      TlsSecretStore.Stored stored = store.read();
      RenewalPolicy.Action action = policy.decide(stored.material(), now);
      TlsMaterial material = policy.renew(stored.material(), now);
      if (action == RenewalPolicy.Action.KEEP || store.write(material, stored.resourceVersion())) {
        if (action != RenewalPolicy.Action.KEEP) {
          LOG.infof(
              "%s TLS %s: serving certificate valid until %s, CA until %s%s (Secret %s)",
              label,
              action,
              material.serving().notAfter(),
              material.ca().notAfter(),
              material.nextCa().map(next -> ", next CA until " + next.notAfter()).orElse(""),
              store.describe());
        }
        publishCaBundle.accept(material.caBundlePem(now));
        return material;
      }
      LOG.debugf("Secret %s changed concurrently; reading it again", store.describe());
    }
    throw new IllegalStateException(
        "could not store the "
            + label
            + " certificate in Secret "
            + store.describe()
            + " after "
            + WRITE_ATTEMPTS
            + " attempts");
  }
}
