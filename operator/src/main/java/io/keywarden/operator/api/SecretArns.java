package io.keywarden.operator.api;

import com.github.benmanes.caffeine.cache.Cache;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.operator.config.Caches;
import io.keywarden.operator.crypto.Sha256;
import io.keywarden.operator.failure.RequestException;

/**
 * The ARNs Keywarden answers, in AWS Secrets Manager's form: {@code
 * arn:aws:secretsmanager:<region>:<account>:secret:<namespace>/<name>-<6 characters>}. AWS appends
 * six random characters so that a secret deleted and created again under the same name gets a new
 * ARN; here they come from the ManagedSecret's uid, which every replica knows without shared state.
 */
public final class SecretArns {

  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  static final int SUFFIX_LENGTH = 6;
  // Every answer names its ARN; the suffix's digest per request showed in the profile of a cached
  // GetSecretValue. A uid's suffix never changes, so a bounded cache needs no invalidation.
  private static final Cache<String, String> SUFFIXES =
      Caches.onCallingThread().maximumSize(10_000).build();

  private final String region;
  private final String account;

  public SecretArns(String region, String account) {
    this.region = region;
    this.account = account;
  }

  private String prefix() {
    return "arn:aws:secretsmanager:" + region + ":" + account + ":secret:";
  }

  public String arn(ManagedSecret secret) {
    return prefix()
        + secret.getMetadata().getNamespace()
        + "/"
        + secret.getMetadata().getName()
        + "-"
        + suffix(secret.getMetadata().getUid());
  }

  /** Six characters of [A-Za-z0-9] derived from the uid. */
  static String suffix(String uid) {
    return SUFFIXES.get(uid, SecretArns::derive);
  }

  private static String derive(String uid) {
    byte[] hash = Sha256.ofUtf8(uid);
    StringBuilder out = new StringBuilder(SUFFIX_LENGTH);
    for (int i = 0; i < SUFFIX_LENGTH; i++) {
      out.append(ALPHABET.charAt((hash[i] & 0xff) % ALPHABET.length()));
    }
    return out.toString();
  }

  /** Whether an ARN's suffix names this very secret, not an earlier one of the same name. */
  static boolean matches(SecretId id, ManagedSecret secret) {
    return id.arnSuffix() == null || id.arnSuffix().equals(suffix(secret.getMetadata().getUid()));
  }

  SecretId parse(String field, String arn) {
    String[] parts = arn.split(":", 7);
    if (parts.length != 7
        || !parts[1].startsWith("aws")
        || !parts[2].equals("secretsmanager")
        || !parts[5].equals("secret")) {
      throw RequestException.invalidParameter(
          field
              + " is not a Secrets Manager secret ARN; Keywarden's look like "
              + prefix()
              + "<namespace>/<name>-<6 characters>");
    }
    if (!parts[3].equals(region) || !parts[4].equals(account)) {
      throw RequestException.notFound(
          field
              + " names region "
              + parts[3]
              + " and account "
              + parts[4]
              + "; this Keywarden answers for region "
              + region
              + " and account "
              + account
              + " (keywarden.aws.region, keywarden.aws.account-id)");
    }
    String resource = parts[6];
    int slash = resource.indexOf('/');
    int dash = resource.lastIndexOf('-');
    if (slash < 1 || dash < slash + 2 || resource.length() - dash - 1 != SUFFIX_LENGTH) {
      throw RequestException.invalidParameter(
          field
              + " must end in <namespace>/<name>-<6 characters>, the full ARN DescribeSecret"
              + " answers");
    }
    return SecretId.checked(
        field,
        resource.substring(0, slash),
        resource.substring(slash + 1, dash),
        resource.substring(dash + 1));
  }
}
