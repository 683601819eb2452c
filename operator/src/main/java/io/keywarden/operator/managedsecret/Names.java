package io.keywarden.operator.managedsecret;

/**
 * The labels and annotations the operator writes on the objects it keeps. API-contract names
 * (condition types and reasons, stages, rotate-now, the finalizer) live beside the resource types
 * in the crds module.
 */
public final class Names {

  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String OPERATOR = "keywarden-operator";

  /** Ciphertext Secrets: which ManagedSecret (by uid) and which version they hold. */
  public static final String LABEL_SECRET_UID = "keywarden.io/secret-uid";

  public static final String LABEL_SECRET_NAMESPACE = "keywarden.io/secret-namespace";
  public static final String ANNOTATION_SECRET_NAME = "keywarden.io/secret-name";
  public static final String ANNOTATION_VERSION_ID = "keywarden.io/version-id";
  public static final String CIPHERTEXT_TYPE = "keywarden.io/ciphertext";
  public static final String ENVELOPE_KEY = "envelope";

  private Names() {}
}
