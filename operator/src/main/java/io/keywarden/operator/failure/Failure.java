package io.keywarden.operator.failure;

import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Every kind of failure the operator knows, the one vocabulary the edges translate: the API into an
 * HTTP status and an AWS error type ({@code ApiErrors}), the reconciler into conditions ({@code
 * FailureConditions}). Both translations are exhaustive switches over this enum, so a new kind does
 * not compile until each edge says what it means.
 */
public enum Failure {
  /** The spec of a resource is wrong; the user must change it. */
  INVALID_SPEC,
  /** A request parameter is wrong. */
  INVALID_PARAMETER,
  /** The request is valid but the resource's state does not allow it (yet). */
  INVALID_REQUEST,
  /** A value over the 65,536-byte limit. */
  VALUE_TOO_LARGE,
  /** The resource or version named does not exist. */
  NOT_FOUND,
  /** No such API operation. */
  UNKNOWN_OPERATION,
  /** An operation Keywarden serves through Kubernetes objects, not through the API. */
  NOT_SERVED,
  /** A version with this id (an AWS ClientRequestToken) already exists with another value. */
  RESOURCE_EXISTS,
  /** A pagination token this API did not hand out, or for another query. */
  INVALID_NEXT_TOKEN,
  /** No valid token. */
  UNAUTHENTICATED,
  /** RBAC says no. */
  ACCESS_DENIED,
  /** A SigV4 Authorization header that lacks a part or cannot be parsed. */
  INCOMPLETE_SIGNATURE,
  /**
   * A SigV4 signature that does not verify: wrong secret key, altered request, wrong scope, or
   * signed outside the five-minute window.
   */
  INVALID_SIGNATURE,
  /** Keywarden-issued AWS credentials past their expiry. */
  EXPIRED_CREDENTIALS,
  /**
   * A SigV4 session token that is missing, altered, sealed by a key no replica holds, or issued
   * with another access key id.
   */
  UNRECOGNIZED_CREDENTIALS,
  /** spec.kmsKeyId names a key this operator is not configured with. */
  UNKNOWN_KMS_KEY,
  /** The KMS cannot serve right now: unreachable, throttled, disabled key, bad credentials. */
  KMS_UNAVAILABLE,
  /** An envelope that does not authenticate: altered, or moved from another secret or version. */
  DECRYPTION_FAILED,
  /** A version's ciphertext record is gone. */
  CIPHERTEXT_MISSING,
  /** A rotation step failed. */
  ROTATION_FAILED,
  /** Another writer changed the object meanwhile, more often than a bounded retry absorbs. */
  CONFLICT,
  /** Too many waiting requests. */
  THROTTLED,
  /** No worker is free. */
  OVERLOADED,
  /** The Kubernetes API server is unreachable or overloaded. */
  KUBERNETES_UNAVAILABLE,
  /** A bug or an unforeseen error; the operator log has the details. */
  INTERNAL;

  /**
   * Classifies anything thrown: our own exceptions by what they carry (also when wrapped, as JOSDK
   * wraps them), Kubernetes API errors by their code, the rest as {@link #INTERNAL}.
   */
  public static Failure of(Throwable thrown) {
    KeywardenException own = KeywardenException.find(thrown);
    if (own != null) {
      return own.failure();
    }
    for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof KubernetesClientException k) {
        if (k.getCode() == 409) {
          return CONFLICT;
        }
        if (k.getCode() == 0 || k.getCode() == 429 || k.getCode() >= 500) {
          return KUBERNETES_UNAVAILABLE;
        }
        return INTERNAL;
      }
    }
    return INTERNAL;
  }
}
