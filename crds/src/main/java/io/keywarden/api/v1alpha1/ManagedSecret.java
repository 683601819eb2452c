package io.keywarden.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A secret whose values Keywarden keeps only as ciphertext, in versions with AWS staging labels.
 * Named ManagedSecret, not Secret, so that it never shadows the core kind in kubectl.
 */
@Group(KeywardenApi.GROUP)
@Version(KeywardenApi.VERSION)
@Kind("ManagedSecret")
@ShortNames("msec")
@AdditionalPrinterColumn(
    name = "Current",
    jsonPath = ".status.currentVersionId",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Last Rotated",
    jsonPath = ".status.lastRotatedAt",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class ManagedSecret extends CustomResource<ManagedSecretSpec, ManagedSecretStatus>
    implements Namespaced {

  /** Holds the ManagedSecret until its ciphertext is removed from the operator namespace. */
  public static final String FINALIZER = "keywarden.io/ciphertext";

  /**
   * Set (any value, by convention a timestamp) to rotate now; the operator removes it once the
   * rotation it asked for is on record.
   */
  public static final String ROTATE_NOW_ANNOTATION = "keywarden.io/rotate-now";

  /**
   * Set with {@link #ROTATE_NOW_ANNOTATION} by the secret-value API for RotateSecret's
   * ClientRequestToken: the VersionId the rotation's new version gets (as on AWS); removed with it.
   */
  public static final String ROTATE_VERSION_ID_ANNOTATION = "keywarden.io/rotate-version-id";

  /**
   * Set by the secret-value API when a read finds a version it cannot decrypt: the operator checks
   * the secret at once and reports it in the status.
   */
  public static final String VERIFY_ANNOTATION = "keywarden.io/verify-requested";

  /**
   * On a new ManagedSecret (value {@code "true"}): bring back the versions, with their stages, of
   * the deleted ManagedSecret of the same namespace and name whose recovery window is still open,
   * instead of making a first value. An annotation, not a spec field: it is a one-time request
   * about this object's creation, not a property the secret keeps, and the operator answers it in
   * the status (Ready) and an Event. Without a deleted secret to restore, the ManagedSecret stays
   * Ready=False with reason RecoveryNotFound and no value is made.
   */
  public static final String RESTORE_ANNOTATION = "keywarden.io/restore";

  /**
   * Set by the secret-value API's DeleteSecret just before it deletes the ManagedSecret: the
   * recovery window in days for this deletion (RecoveryWindowInDays, or 0 for
   * ForceDeleteWithoutRecovery), instead of spec.deletion.recoveryWindowDays.
   */
  public static final String DELETION_WINDOW_ANNOTATION =
      "keywarden.io/deletion-recovery-window-days";

  @Override
  protected ManagedSecretStatus initStatus() {
    return new ManagedSecretStatus();
  }
}
