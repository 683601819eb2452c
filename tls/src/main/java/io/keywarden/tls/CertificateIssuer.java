package io.keywarden.tls;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Issues a private CA and the serving certificates it signs, with Bouncy Castle: the injector's
 * webhook and the operator's API each have their own. ECDSA P-256: the apiserver (Go crypto/tls),
 * the agent and every JDK accept it, it is fast to generate at startup and cheap per handshake.
 */
public final class CertificateIssuer {

  /** Backdating tolerates clocks a little behind ours (apiserver nodes, test machines). */
  private static final Duration BACKDATE = Duration.ofMinutes(5);

  private static final String SIGNATURE = "SHA256withECDSA";

  private final SecureRandom random = new SecureRandom();
  private final String name;
  private final RenewalSettings settings;

  /**
   * @param name the serving certificates' CN (e.g. {@code keywarden-injector}); the CA is called
   *     {@code <name>-ca <epoch second>}, so a rotated CA has another subject than its predecessor
   */
  public CertificateIssuer(String name, RenewalSettings settings) {
    this.name = name;
    this.settings = settings;
  }

  public RenewalSettings settings() {
    return settings;
  }

  public IssuedCertificate newCa(Instant now) {
    try {
      KeyPair keys = keyPair();
      X500Name subject = new X500Name("CN=" + name + "-ca " + now.getEpochSecond());
      X509v3CertificateBuilder builder =
          builder(subject, subject, keys.getPublic(), now, settings.caValidity());
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      // pathLen 0: this CA signs only the serving certificate, never another CA.
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      builder.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          utils.createSubjectKeyIdentifier(keys.getPublic()));
      return new IssuedCertificate(sign(builder, keys), keys.getPrivate());
    } catch (GeneralSecurityException | CertIOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot create the " + name + " CA", e);
    }
  }

  public IssuedCertificate issueServing(
      IssuedCertificate ca, SubjectAlternativeNames names, Instant now) {
    try {
      KeyPair keys = keyPair();
      X500Name issuer =
          X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded());
      // The names live in the SANs (the only place Go and the JDK look); a CN of
      // <service>.<namespace>.svc could exceed the 64 characters RFC 5280 allows, so the CN is a
      // fixed label.
      X500Name subject = new X500Name("CN=" + name);
      // Never outlive the CA: a certificate beyond its issuer's validity fails verification anyway.
      Duration left = Duration.between(now, ca.notAfter());
      Duration validity = left.compareTo(settings.validity()) < 0 ? left : settings.validity();
      X509v3CertificateBuilder builder = builder(issuer, subject, keys.getPublic(), now, validity);
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      builder.addExtension(Extension.subjectAlternativeName, false, generalNames(names));
      builder.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          utils.createSubjectKeyIdentifier(keys.getPublic()));
      builder.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          utils.createAuthorityKeyIdentifier(ca.certificate()));
      X509Certificate certificate =
          new JcaX509CertificateConverter()
              .getCertificate(
                  builder.build(new JcaContentSignerBuilder(SIGNATURE).build(ca.key())));
      return new IssuedCertificate(certificate, keys.getPrivate());
    } catch (GeneralSecurityException | CertIOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot issue the " + name + " serving certificate", e);
    }
  }

  private X509v3CertificateBuilder builder(
      X500Name issuer, X500Name subject, PublicKey key, Instant now, Duration validity) {
    // 127 random bits: positive, unique, and within the 20 octets RFC 5280 allows.
    BigInteger serial = new BigInteger(127, random).add(BigInteger.ONE);
    return new JcaX509v3CertificateBuilder(
        issuer,
        serial,
        Date.from(now.minus(BACKDATE)),
        Date.from(now.plus(validity)),
        subject,
        key);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair keys)
      throws GeneralSecurityException, OperatorCreationException {
    return new JcaX509CertificateConverter()
        .getCertificate(
            builder.build(new JcaContentSignerBuilder(SIGNATURE).build(keys.getPrivate())));
  }

  private KeyPair keyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), random);
    return generator.generateKeyPair();
  }

  private static GeneralNames generalNames(SubjectAlternativeNames names) {
    List<GeneralName> list = new ArrayList<>();
    names.dnsNames().forEach(dns -> list.add(new GeneralName(GeneralName.dNSName, dns)));
    names.ipAddresses().forEach(ip -> list.add(new GeneralName(GeneralName.iPAddress, ip)));
    return new GeneralNames(list.toArray(GeneralName[]::new));
  }
}
