package io.keywarden.injector.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Decides whether the stored certificates can stay, and makes the new ones when not. The CA is kept
 * across serving-certificate renewals, so the caBundle in the webhook configuration rarely changes;
 * it is rotated only when it could no longer sign a full-length serving certificate.
 */
public final class RenewalPolicy {

  public enum Action {
    /** Stored material is fine. */
    KEEP,
    /** Serving certificate expires soon, lacks a name, or is not from the CA: new one, same CA. */
    RENEW_SERVING,
    /** The CA expires within a serving lifetime: new CA, the old one stays in the bundle. */
    ROTATE_CA,
    /** Nothing usable stored. */
    NEW_CA
  }

  private final CertificateIssuer issuer;
  private final SubjectAlternativeNames names;
  private final Duration renewBefore;

  public RenewalPolicy(
      CertificateIssuer issuer, SubjectAlternativeNames names, Duration renewBefore) {
    this.issuer = issuer;
    this.names = names;
    this.renewBefore = renewBefore;
  }

  public Action decide(Optional<TlsMaterial> current, Instant now) {
    if (current.isEmpty()) {
      return Action.NEW_CA;
    }
    TlsMaterial material = current.get();
    Instant renewalDeadline = now.plus(renewBefore);
    if (material
        .ca()
        .notAfter()
        .isBefore(renewalDeadline.plus(CertificateIssuer.SERVING_VALIDITY))) {
      return Action.ROTATE_CA;
    }
    X509Certificate serving = material.serving().certificate();
    if (material.serving().notAfter().isBefore(renewalDeadline)
        || !coversNames(serving)
        || !signedBy(serving, material.ca().certificate())) {
      return Action.RENEW_SERVING;
    }
    return Action.KEEP;
  }

  /** The material to use from now on: {@code current} itself when it can stay. */
  public TlsMaterial renew(Optional<TlsMaterial> current, Instant now) {
    return switch (decide(current, now)) {
      case KEEP -> current.orElseThrow();
      case RENEW_SERVING ->
          new TlsMaterial(
              current.orElseThrow().ca(),
              issuer.issueServing(current.orElseThrow().ca(), names, now),
              current.orElseThrow().previousCa());
      case ROTATE_CA -> {
        IssuedCertificate ca = issuer.newCa(now);
        yield new TlsMaterial(
            ca,
            issuer.issueServing(ca, names, now),
            Optional.of(current.orElseThrow().ca().certificate()));
      }
      case NEW_CA -> {
        IssuedCertificate ca = issuer.newCa(now);
        yield new TlsMaterial(ca, issuer.issueServing(ca, names, now), Optional.empty());
      }
    };
  }

  private boolean coversNames(X509Certificate certificate) {
    Set<String> dns = new HashSet<>();
    Set<String> ips = new HashSet<>();
    try {
      Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
      if (sans == null) {
        return false;
      }
      for (List<?> san : sans) {
        int type = (Integer) san.get(0);
        if (type == 2) {
          dns.add(String.valueOf(san.get(1)));
        } else if (type == 7) {
          ips.add(normalise(String.valueOf(san.get(1))));
        }
      }
    } catch (CertificateParsingException e) {
      return false;
    }
    return dns.containsAll(names.dnsNames())
        && ips.containsAll(names.ipAddresses().stream().map(RenewalPolicy::normalise).toList());
  }

  /**
   * IP literals only (never a lookup), in the JDK's spelling, so ::1 and 0:0:0:0:0:0:0:1 compare
   * equal.
   */
  private static String normalise(String ip) {
    try {
      return InetAddress.getByName(ip).getHostAddress();
    } catch (UnknownHostException e) {
      return ip;
    }
  }

  private static boolean signedBy(X509Certificate certificate, X509Certificate ca) {
    try {
      certificate.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
