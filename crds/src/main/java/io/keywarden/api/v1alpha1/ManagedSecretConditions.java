package io.keywarden.api.v1alpha1;

/**
 * The condition types of a ManagedSecret's status and every reason the operator writes into them:
 * users alert on these names, so they are API, as stable as the fields. Reasons are CamelCase as
 * the Kubernetes API conventions ask; messages say what to fix.
 */
public final class ManagedSecretConditions {

  /** True when a CURRENT version exists; False names the input to fix. */
  public static final String READY = "Ready";

  /** True while a rotation runs; False carries the last rotation's result. */
  public static final String ROTATING = "Rotating";

  /**
   * True when the value cannot be served or kept right now: a stage that does not decrypt or whose
   * ciphertext is missing, a KMS key that fails, a rotation that failed, an object Keywarden would
   * create that a user already owns. Derived on every reconciliation from these facts.
   */
  public static final String DEGRADED = "Degraded";

  // Ready
  /** Ready=True: CURRENT exists. */
  public static final String VERSION_AVAILABLE = "VersionAvailable";

  /** Ready=False: the spec is invalid in a way the schema cannot say (the message names it). */
  public static final String INVALID_SPEC = "InvalidSpec";

  public static final String SOURCE_SECRET_NOT_FOUND = "SourceSecretNotFound";
  public static final String SOURCE_SECRET_UNREADABLE = "SourceSecretUnreadable";
  public static final String SOURCE_KEY_NOT_FOUND = "SourceKeyNotFound";
  public static final String SOURCE_KEY_EMPTY = "SourceKeyEmpty";
  public static final String VALUE_TOO_LARGE = "ValueTooLarge";

  /** Ready=False: spec.kmsKeyId names a key the operator is not configured with. */
  public static final String UNKNOWN_KMS_KEY = "UnknownKmsKey";

  /**
   * Ready=False: keywarden.io/restore asks for a deleted secret of this namespace and name, and
   * none is within its recovery window (never deleted, purged, or already restored).
   */
  public static final String RECOVERY_NOT_FOUND = "RecoveryNotFound";

  /** Event reason: the versions of a deleted secret were brought back by keywarden.io/restore. */
  public static final String RESTORED = "Restored";

  /** Event reason: the secret was deleted and its versions are kept until the purge time. */
  public static final String DELETION_SCHEDULED = "DeletionScheduled";

  /** Event reason: the recovery window ended and the kept versions were purged. */
  public static final String PURGED = "Purged";

  // Degraded
  /** Degraded=False. */
  public static final String HEALTHY = "Healthy";

  /** A stage's envelope does not authenticate: altered, or copied from another secret/version. */
  public static final String DECRYPTION_FAILED = "DecryptionFailed";

  /** A stage's ciphertext record is gone from the operator namespace. */
  public static final String CIPHERTEXT_MISSING = "CiphertextMissing";

  /** spec.syncToSecret names a Secret that someone else owns; it is left untouched. */
  public static final String SYNC_TARGET_CONFLICT = "SyncTargetConflict";

  /** A Role or RoleBinding for spec.access already exists and is not ours; it is left untouched. */
  public static final String ACCESS_POLICY_CONFLICT = "AccessPolicyConflict";

  /** Anything else the reconciliation could not do; the message and the operator log say what. */
  public static final String RECONCILE_ERROR = "ReconcileError";

  // KMS (Degraded, also the reason of a failed rotation's Rotating=False)
  public static final String KMS_UNAVAILABLE = "KmsUnavailable";
  public static final String KMS_THROTTLED = "KmsThrottled";
  public static final String KMS_BUSY = "KmsBusy";
  public static final String KMS_KEY_DISABLED = "KmsKeyDisabled";
  public static final String KMS_KEY_NOT_FOUND = "KmsKeyNotFound";
  public static final String KMS_KEY_UNUSABLE = "KmsKeyUnusable";
  public static final String KMS_ACCESS_DENIED = "KmsAccessDenied";
  public static final String KMS_AUTHENTICATION_FAILED = "KmsAuthenticationFailed";
  public static final String KMS_MISCONFIGURED = "KmsMisconfigured";
  public static final String KMS_ROTATION_LIMIT_REACHED = "KmsRotationLimitReached";
  public static final String KMS_LIBRARY_NOT_FOUND = "KmsLibraryNotFound";
  public static final String KMS_TOKEN_NOT_FOUND = "KmsTokenNotFound";
  public static final String KMS_LOGIN_FAILED = "KmsLoginFailed";
  public static final String INVALID_KEY_ID = "InvalidKeyId";
  public static final String INVALID_MASTER_KEY = "InvalidMasterKey";
  public static final String KEY_VERSION_NOT_FOUND = "KeyVersionNotFound";
  public static final String MASTER_KEY_READ_ONLY = "MasterKeyReadOnly";

  // Rotating (and Degraded while the last rotation failed)
  public static final String ROTATION_IN_PROGRESS = "RotationInProgress";

  /** Event reason when a rotation starts. */
  public static final String ROTATION_STARTED = "RotationStarted";

  public static final String ROTATION_SUCCEEDED = "RotationSucceeded";

  /** rotate-now on a secret without spec.generate and without a RotationSchedule. */
  public static final String ROTATION_NOT_CONFIGURED = "RotationNotConfigured";

  public static final String ROTATION_NOT_POSSIBLE = "RotationNotPossible";
  public static final String ROTATION_PENDING_MISSING = "RotationPendingMissing";
  public static final String ROTATION_SET_FAILED = "RotationSetFailed";
  public static final String ROTATION_TEST_FAILED = "RotationTestFailed";
  public static final String ROTATION_HOOK_FAILED = "RotationHookFailed";
  public static final String ROTATION_HOOK_UNREACHABLE = "RotationHookUnreachable";
  public static final String ROTATION_HOOK_AUTH_FAILED = "RotationHookAuthFailed";

  /** A rotation stopped by the KMS; the message names the KMS reason. */
  public static final String ROTATION_KMS_FAILED = "RotationKmsFailed";

  private ManagedSecretConditions() {}
}
