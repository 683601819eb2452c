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

  private KeywardenApi() {}
}
