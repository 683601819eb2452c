package io.keywarden.operator.managedsecret;

/**
 * Every label, annotation, finalizer, stage and condition type the operator writes, in one place.
 */
public final class Names {

  public static final String FINALIZER = "keywarden.io/ciphertext";
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String OPERATOR = "keywarden-operator";

  /** Ciphertext Secrets: which ManagedSecret (by uid) and which version they hold. */
  public static final String LABEL_SECRET_UID = "keywarden.io/secret-uid";

  public static final String LABEL_SECRET_NAMESPACE = "keywarden.io/secret-namespace";
  public static final String ANNOTATION_SECRET_NAME = "keywarden.io/secret-name";
  public static final String ANNOTATION_VERSION_ID = "keywarden.io/version-id";
  public static final String CIPHERTEXT_TYPE = "keywarden.io/ciphertext";
  public static final String ENVELOPE_KEY = "envelope";

  /**
   * Set (any value, by convention a timestamp) to rotate now; the operator removes it when it
   * starts the rotation.
   */
  public static final String ROTATE_NOW_ANNOTATION = "keywarden.io/rotate-now";

  public static final String STAGE_CURRENT = "CURRENT";
  public static final String STAGE_PREVIOUS = "PREVIOUS";
  public static final String STAGE_PENDING = "PENDING";

  public static final String CONDITION_READY = "Ready";
  public static final String CONDITION_ROTATING = "Rotating";
  public static final String CONDITION_DEGRADED = "Degraded";

  private Names() {}
}
