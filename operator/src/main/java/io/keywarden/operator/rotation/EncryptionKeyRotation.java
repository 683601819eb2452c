package io.keywarden.operator.rotation;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.operator.kms.KmsKey;
import io.keywarden.operator.kms.KmsKeys;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.operator.versions.EnvelopeRewrapper;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * rotateEncryptionKey: a new version of the KMS key, every stored version of the secret re-wrapped
 * under it (values and their ciphertext unchanged), and older key versions retired once no envelope
 * of any secret uses them. Also moves versions to a changed spec.kmsKeyId.
 */
@ApplicationScoped
public class EncryptionKeyRotation {

  private static final Logger LOG = Logger.getLogger(EncryptionKeyRotation.class);
  private final KubernetesClient client;
  private final KmsKeys kmsKeys;
  private final CiphertextStore store;
  private final EnvelopeRewrapper rewrapper;

  public EncryptionKeyRotation(
      KubernetesClient client,
      KmsKeys kmsKeys,
      CiphertextStore store,
      EnvelopeRewrapper rewrapper) {
    this.client = client;
    this.kmsKeys = kmsKeys;
    this.store = store;
    this.rewrapper = rewrapper;
  }

  public ManagedSecret rewrap(ManagedSecret secret) {
    KmsKey key = kmsKeys.resolve(secret.getSpec().getKmsKeyId());
    int current = key.provider().primaryKeyVersion(key.providerKeyId());
    boolean allAtPrimary =
        secret.getStatus().getVersions().stream()
            .allMatch(
                v ->
                    key.alias().equals(v.getKmsKeyId())
                        && v.getKeyVersion() != null
                        && v.getKeyVersion() == current);
    int primary = current;
    if (allAtPrimary) {
      primary = key.provider().rotateKey(key.providerKeyId());
      LOG.infof("KMS key %s: new primary version %d", key.alias(), primary);
    }
    int target = primary;
    ManagedSecret updated =
        rewrapper
            .rewrap(
                secret,
                key,
                envelope ->
                    !envelope.kmsKeyId().equals(key.alias()) || envelope.keyVersion() != target)
            .secret();
    retireUnused(key);
    return updated;
  }

  /** Key versions are retired only when no envelope of any secret still names them. */
  private void retireUnused(KmsKey key) {
    key.provider().retireUnusedVersions(key.providerKeyId(), store.keyVersionsInUse(key.alias()));
  }
}
