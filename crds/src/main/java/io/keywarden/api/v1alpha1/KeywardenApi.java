package io.keywarden.api.v1alpha1;

/** Names shared by every part of Keywarden that speaks the keywarden.io API. */
public final class KeywardenApi {
  public static final String GROUP = "keywarden.io";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;

  /**
   * The virtual resource that RBAC rules name to grant access to values (verbs get, update,
   * rotate).
   */
  public static final String VALUE_RESOURCE = "managedsecrets/value";

  /** Values are at most 65,536 bytes, the AWS Secrets Manager limit. */
  public static final int MAX_VALUE_BYTES = 65_536;

  /**
   * Every object the operator creates carries this label with {@link #OPERATOR}: it is how the
   * operator tells its own objects from a user's of the same name, which it never touches.
   */
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

  public static final String OPERATOR = "keywarden-operator";

  private KeywardenApi() {}
}
