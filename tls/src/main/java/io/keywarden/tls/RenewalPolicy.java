package io.keywarden.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Decides whether the stored certificates can stay, and makes the new ones when not. The CA is kept
 * across serving-certificate renewals, so what clients trust rarely changes. A CA is replaced in
 * two steps: {@link RenewalSettings#caOverlap()} before it could no longer sign a full-length
 * serving certificate, its successor is made and published beside it (clients that read the bundle
 * only at start, like agents, learn it); at that point the successor takes over and the old CA
 * stays in the bundle until it expires.
 */
public final class RenewalPolicy {

  public enum Action {
    /** Stored material is fine. */
    KEEP,
    /** Serving certificate expires soon, lacks a name, or is not from the CA: new one, same CA. */
    RENEW_SERVING,
    /** The CA is near its end: its successor is made and published, not yet used. */
    PREPARE_CA,
    /** The CA expires within a serving lifetime: its successor signs from now on. */
    ROTATE_CA,
    /** Nothing usable stored. */
    NEW_CA
  }

  private final CertificateIssuer issuer;
  private final SubjectAlternativeNames names;
  private final RenewalSettings settings;

  public RenewalPolicy(CertificateIssuer issuer, SubjectAlternativeNames names) {
    this.issuer = issuer;
    this.names = names;
    this.settings = issuer.settings();
  }

  public Action decide(Optional<TlsMaterial> current, Instant now) {
    if (current.isEmpty()) {
      return Action.NEW_CA;
    }
    TlsMaterial material = current.get();
    if (!now.isBefore(rotateCaAt(material.ca()))) {
      return Action.ROTATE_CA;
    }
    if (material.nextCa().isEmpty() && !now.isBefore(prepareCaAt(material.ca()))) {
      return Action.PREPARE_CA;
    }
    return servingUsable(material, now) ? Action.KEEP : Action.RENEW_SERVING;
  }

  /** The material to use from now on: {@code current} itself when it can stay. */
  public TlsMaterial renew(Optional<TlsMaterial> current, Instant now) {
    return switch (decide(current, now)) {
      case KEEP -> current.orElseThrow();
      case RENEW_SERVING -> {
        TlsMaterial material = current.orElseThrow();
        yield new TlsMaterial(
            material.ca(),
            issuer.issueServing(material.ca(), names, now),
            material.previousCa(),
            material.nextCa());
      }
      case PREPARE_CA -> {
        TlsMaterial material = current.orElseThrow();
        IssuedCertificate serving =
            servingUsable(material, now)
                ? material.serving()
                : issuer.issueServing(material.ca(), names, now);
        yield new TlsMaterial(
            material.ca(), serving, material.previousCa(), Optional.of(issuer.newCa(now)));
      }
      case ROTATE_CA -> {
        TlsMaterial material = current.orElseThrow();
        // The staged successor, clients have had it for ca-overlap; a new one only when none was
        // staged (the process was down through the whole overlap).
        IssuedCertificate ca = material.nextCa().orElseGet(() -> issuer.newCa(now));
        yield new TlsMaterial(
            ca,
            issuer.issueServing(ca, names, now),
            Optional.of(material.ca().certificate()),
            Optional.empty());
      }
      case NEW_CA -> {
        IssuedCertificate ca = issuer.newCa(now);
        yield new TlsMaterial(ca, issuer.issueServing(ca, names, now));
      }
    };
  }

  /**
   * When {@link #decide} will next answer other than KEEP for this material, if nothing else
   * changes: the moment to check again.
   */
  public Instant nextDecisionAt(TlsMaterial material) {
    Instant next = material.serving().notAfter().minus(settings.renewBefore());
    next = earliest(next, rotateCaAt(material.ca()));
    if (material.nextCa().isEmpty()) {
      next = earliest(next, prepareCaAt(material.ca()));
    }
    return next;
  }

  private boolean servingUsable(TlsMaterial material, Instant now) {
    X509Certificate serving = material.serving().certificate();
    return material.serving().notAfter().isAfter(now.plus(settings.renewBefore()))
        && coversNames(serving)
        && signedBy(serving, material.ca().certificate());
  }

  /** The last moment the CA can still sign a serving certificate that is renewed in time. */
  private Instant rotateCaAt(IssuedCertificate ca) {
    return ca.notAfter().minus(settings.validity()).minus(settings.renewBefore());
  }

  private Instant prepareCaAt(IssuedCertificate ca) {
    return rotateCaAt(ca).minus(settings.caOverlap());
  }

  private static Instant earliest(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
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
