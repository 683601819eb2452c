package io.keywarden.operator.kms.aws;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Expiry;
import io.keywarden.operator.config.Caches;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.failure.KmsException;
import io.keywarden.operator.kms.DataKey;
import io.keywarden.operator.kms.KmsProvider;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.jboss.logging.Logger;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeySpec;
import software.amazon.awssdk.services.kms.model.KeyUsageType;

/**
 * AWS KMS through the SDK v2: GenerateDataKey (AES_256) for new versions, Decrypt to unwrap,
 * Encrypt to re-wrap an existing data key (rotation, migration between keys). Every call carries
 * the secret's binding (namespace, name, uid, version id) as the KMS EncryptionContext, the same
 * binding the value's AES-GCM additional data carries, so CloudTrail names the secret and IAM
 * policies can condition on it. Key ids, key ARNs, alias names and alias ARNs are all accepted.
 *
 * <p>The client is created on first use only, so an install whose keys are all local never needs an
 * AWS region or credentials.
 */
@ApplicationScoped
public class AwsKmsProvider implements KmsProvider {

  public static final String TYPE = "aws-kms";
  private static final Logger LOG = Logger.getLogger(AwsKmsProvider.class);

  /**
   * An enabled key is described again after this; a refused one sooner, so re-enabling it heals
   * quickly.
   */
  private static final Duration ENABLED_STATE_TTL = Duration.ofSeconds(60);

  private static final Duration OTHER_STATE_TTL = Duration.ofSeconds(5);

  private final KeywardenConfig.Aws settings;

  /** Provider key id to the configuration key that names it, for messages. */
  private final Map<String, String> configuredBy = new TreeMap<>();

  private final Cache<String, AwsKeyState> states;
  private final Set<String> warned = ConcurrentHashMap.newKeySet();
  private volatile KmsClient client;

  public AwsKmsProvider(KeywardenConfig config) {
    this.settings = config.kms().aws();
    config
        .kms()
        .keys()
        .forEach(
            (alias, key) -> {
              if (TYPE.equals(key.provider())) {
                configuredBy.put(
                    key.keyId().orElse(alias), "keywarden.kms.keys." + alias + ".key-id");
              }
            });
    this.states =
        Caches.onCallingThread()
            .maximumSize(1000)
            .expireAfter(
                Expiry.creating(
                    (String k, AwsKeyState v) -> v.usable() ? ENABLED_STATE_TTL : OTHER_STATE_TTL))
            .build();
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public DataKey generateDataKey(String keyId, EncryptionContext context) {
    AwsKeyState key = usable(keyId);
    var response =
        call(
            "GenerateDataKey",
            keyId,
            () ->
                client()
                    .generateDataKey(
                        b ->
                            b.keyId(keyId)
                                .keySpec(DataKeySpec.AES_256)
                                .encryptionContext(context.asMap())));
    // SdkBytes keeps its own copy of the plaintext, which we cannot wipe; ours is wiped after the
    // seal.
    return new DataKey(
        response.plaintext().asByteArray(), response.ciphertextBlob().asByteArray(), key.version());
  }

  @Override
  public byte[] decryptDataKey(
      String keyId, int keyVersion, byte[] wrappedDek, EncryptionContext context) {
    usable(keyId);
    var response =
        call(
            "Decrypt",
            keyId,
            () ->
                client()
                    .decrypt(
                        b -> {
                          b.ciphertextBlob(SdkBytes.fromByteArray(wrappedDek))
                              .encryptionContext(context.asMap());
                          // The ciphertext names the key that wrapped it. Pinning the key makes AWS
                          // refuse a data key
                          // wrapped by any other key; an alias is not pinned, because re-pointing
                          // an alias to a new
                          // key must not make the data keys wrapped under its old key unreadable.
                          if (!isAlias(keyId)) {
                            b.keyId(keyId);
                          }
                        }));
    return response.plaintext().asByteArray();
  }

  @Override
  public DataKey wrapDataKey(String keyId, byte[] plaintextDek, EncryptionContext context) {
    AwsKeyState key = usable(keyId);
    var response =
        call(
            "Encrypt",
            keyId,
            () ->
                client()
                    .encrypt(
                        b ->
                            b.keyId(keyId)
                                .plaintext(SdkBytes.fromByteArray(plaintextDek))
                                .encryptionContext(context.asMap())));
    return new DataKey(
        plaintextDek.clone(), response.ciphertextBlob().asByteArray(), key.version());
  }

  @Override
  public int primaryKeyVersion(String keyId) {
    return state(keyId).version();
  }

  /**
   * RotateKeyOnDemand: AWS creates new key material for the same key and keeps the old material for
   * Decrypt. AWS allows only a few on-demand rotations per key in its lifetime (see the AWS KMS
   * quotas); automatic rotation (EnableKeyRotation) has no such limit and is counted the same way.
   */
  @Override
  public int rotateKey(String keyId) {
    AwsKeyState before = fresh(keyId);
    call("RotateKeyOnDemand", keyId, () -> client().rotateKeyOnDemand(b -> b.keyId(before.arn())));
    // The new material may take a moment to be listed; it is the one Encrypt uses from now on.
    AwsKeyState after = fresh(keyId);
    AwsKeyState rotated =
        after.version() > before.version() ? after : after.withVersion(before.version() + 1);
    states.put(keyId, rotated);
    LOG.infof(
        "AWS KMS key %s: new key material (rotation %d)", describe(keyId), rotated.version() - 1);
    return rotated.version();
  }

  @Override
  public void checkHealth() {
    configuredBy.keySet().forEach(this::checkKey);
  }

  /** DescribeKey, never from the cache: reachable, known, enabled, and permitted. */
  @Override
  public void checkKey(String keyId) {
    usable(fresh(keyId), keyId);
  }

  @PreDestroy
  void close() {
    if (client != null) {
      client.close();
    }
  }

  private AwsKeyState usable(String keyId) {
    return usable(state(keyId), keyId);
  }

  private AwsKeyState usable(AwsKeyState key, String keyId) {
    if (!key.usable()) {
      throw new KmsException(
          AwsErrors.KEY_DISABLED,
          "AWS KMS key "
              + describe(keyId)
              + " is "
              + key.state()
              + (AwsKeyState.ENABLED.equals(key.state())
                  ? ""
                  : "; enable it (EnableKey / CancelKeyDeletion), or move the"
                      + " secret to another key"));
    }
    return key;
  }

  private AwsKeyState state(String keyId) {
    AwsKeyState cached = states.getIfPresent(keyId);
    return cached != null ? cached : fresh(keyId);
  }

  private AwsKeyState fresh(String keyId) {
    AwsKeyState state = describeKey(keyId);
    states.put(keyId, state);
    return state;
  }

  private AwsKeyState describeKey(String keyId) {
    KeyMetadata metadata;
    try {
      metadata = client().describeKey(b -> b.keyId(keyId)).keyMetadata();
    } catch (SdkException e) {
      RuntimeException mapped = AwsErrors.map("DescribeKey", describe(keyId), e);
      if (mapped instanceof KmsException kms && AwsErrors.ACCESS_DENIED.equals(kms.reason())) {
        warnOnce(
            "describe:" + keyId,
            "kms:DescribeKey is not permitted on "
                + describe(keyId)
                + ": key state and rotations cannot be checked ahead; AWS still refuses a disabled key");
        return new AwsKeyState(keyId, null, 1);
      }
      throw mapped;
    }
    // Checked only when AWS says; moto, for one, leaves KeyUsage out.
    if ((metadata.keyUsage() != null && metadata.keyUsage() != KeyUsageType.ENCRYPT_DECRYPT)
        || (metadata.keySpec() != null && metadata.keySpec() != KeySpec.SYMMETRIC_DEFAULT)) {
      throw new KmsException(
          AwsErrors.KEY_UNUSABLE,
          "AWS KMS key "
              + describe(keyId)
              + " is a "
              + metadata.keySpecAsString()
              + " key for "
              + metadata.keyUsageAsString()
              + "; Keywarden needs a SYMMETRIC_DEFAULT key for ENCRYPT_DECRYPT");
    }
    return new AwsKeyState(
        metadata.arn(), metadata.keyStateAsString(), 1 + rotations(keyId, metadata.arn()));
  }

  /** Completed rotations of the key material, automatic and on-demand. */
  private int rotations(String keyId, String arn) {
    try {
      return (int)
          client().listKeyRotationsPaginator(b -> b.keyId(arn)).rotations().stream().count();
    } catch (SdkException e) {
      RuntimeException mapped = AwsErrors.map("ListKeyRotations", describe(keyId), e);
      if (mapped instanceof KmsException kms
          && (AwsErrors.ACCESS_DENIED.equals(kms.reason())
              || "UnsupportedOperationException".equals(AwsErrors.code(e)))) {
        warnOnce(
            "rotations:" + keyId,
            "cannot list rotations of "
                + describe(keyId)
                + " ("
                + kms.getMessage()
                + "): key versions stay at 1, so rotateEncryptionKey rotates the key material but cannot tell old envelopes");
        return 0;
      }
      throw mapped;
    }
  }

  private <T> T call(String operation, String keyId, Supplier<T> request) {
    try {
      return request.get();
    } catch (SdkException e) {
      RuntimeException mapped = AwsErrors.map(operation, describe(keyId), e);
      if (mapped instanceof KmsException) {
        // The key's state may be why: describe it afresh next time.
        states.invalidate(keyId);
      }
      throw mapped;
    }
  }

  private KmsClient client() {
    KmsClient current = client;
    if (current == null) {
      synchronized (this) {
        current = client;
        if (current == null) {
          try {
            current = AwsKmsClients.build(settings);
          } catch (SdkException e) {
            throw AwsErrors.map("connect", "the aws-kms provider", e);
          }
          client = current;
        }
      }
    }
    return current;
  }

  private String describe(String keyId) {
    String by = configuredBy.get(keyId);
    return "'" + keyId + "'" + (by == null ? "" : " (" + by + ")");
  }

  private static boolean isAlias(String keyId) {
    return keyId.startsWith("alias/") || (keyId.startsWith("arn:") && keyId.contains(":alias/"));
  }

  private void warnOnce(String what, String message) {
    if (warned.add(what)) {
      LOG.warn(message);
    }
  }
}
