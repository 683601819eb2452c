package io.keywarden.operator.api;

import io.keywarden.operator.access.Caller;
import io.keywarden.operator.failure.RequestException;
import java.util.regex.Pattern;

/**
 * Which ManagedSecret a request names. AWS's {@code SecretId} comes in three forms here: a bare
 * name (in the caller's ServiceAccount namespace), {@code namespace/name} (Kubernetes names hold no
 * {@code /}, so this is unambiguous), and the ARN Keywarden answers ({@link SecretArns}), whose
 * suffix must match the secret's uid, as an AWS ARN stops matching a deleted and re-created secret.
 *
 * @param arnSuffix the six characters after the name in an ARN, or null for the other forms
 */
public record SecretId(String namespace, String name, String arnSuffix) {

  private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

  /** A secret named by the REST path, which the router already split. */
  public static SecretId of(String namespace, String name) {
    return new SecretId(namespace, name, null);
  }

  /** {@code namespace/name}. */
  public String qualified() {
    return namespace + "/" + name;
  }

  /**
   * Parses a SecretId in any of its forms; {@code field} names it in errors (SecretId, or
   * SecretIdList[3]).
   */
  public static SecretId parse(String field, String raw, Caller caller, SecretArns arns) {
    if (raw.startsWith("arn:")) {
      return arns.parse(field, raw);
    }
    int slash = raw.indexOf('/');
    if (slash < 0) {
      String namespace = caller.serviceAccountNamespace();
      if (namespace == null) {
        throw RequestException.invalidParameter(
            field
                + " is a bare name, which means a secret in the caller's ServiceAccount namespace,"
                + " but "
                + caller.username()
                + " is no ServiceAccount; use namespace/name or the ARN");
      }
      return checked(field, namespace, raw, null);
    }
    if (raw.indexOf('/', slash + 1) >= 0) {
      throw RequestException.invalidParameter(
          field + " must be a name, namespace/name or an ARN; it has more than one '/'");
    }
    return checked(field, raw.substring(0, slash), raw.substring(slash + 1), null);
  }

  static SecretId checked(String field, String namespace, String name, String arnSuffix) {
    if (!NAMESPACE.matcher(namespace).matches()) {
      throw RequestException.invalidParameter(
          field + " names namespace '" + namespace + "', which is no Kubernetes namespace name");
    }
    if (!NAME.matcher(name).matches()) {
      throw RequestException.invalidParameter(
          field
              + " names '"
              + name
              + "', which is no ManagedSecret name (lowercase letters, digits, '-' and '.')");
    }
    return new SecretId(namespace, name, arnSuffix);
  }
}
