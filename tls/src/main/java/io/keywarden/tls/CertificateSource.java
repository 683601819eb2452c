package io.keywarden.tls;

/**
 * Where a server's certificate comes from: {@link SelfIssuedCertificates} (a private CA in a
 * Secret, renewed by the replicas themselves) or {@link MountedCertificate} (files someone else
 * renews, e.g. cert-manager through a Secret volume).
 */
public interface CertificateSource {

  /**
   * The certificate to serve now, renewed or reloaded when due; the same value when nothing
   * changed. Throws when none can be had (the caller keeps serving the last one).
   */
  ServingCertificate load();
}
