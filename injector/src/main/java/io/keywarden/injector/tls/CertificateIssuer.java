package io.keywarden.injector.tls;

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
 * Issues the webhook's own CA and its serving certificate with Bouncy Castle. ECDSA P-256: the
 * apiserver (Go crypto/tls) and every JDK accept it, and it is fast to generate at startup.
 */
public final class CertificateIssuer {

  public static final Duration CA_VALIDITY = Duration.ofDays(5 * 365);
  public static final Duration SERVING_VALIDITY = Duration.ofDays(365);

  /** Backdating tolerates clocks a little behind ours (apiserver nodes, test machines). */
  private static final Duration BACKDATE = Duration.ofMinutes(5);

  private static final String SIGNATURE = "SHA256withECDSA";

  private final SecureRandom random = new SecureRandom();

  public IssuedCertificate newCa(Instant now) {
    try {
      KeyPair keys = keyPair();
      X500Name subject = new X500Name("CN=keywarden-injector-ca " + now.getEpochSecond());
      X509v3CertificateBuilder builder =
          builder(subject, subject, keys.getPublic(), now, CA_VALIDITY);
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
      throw new IllegalStateException("cannot create the webhook CA", e);
    }
  }

  public IssuedCertificate issueServing(
      IssuedCertificate ca, SubjectAlternativeNames names, Instant now) {
    try {
      KeyPair keys = keyPair();
      X500Name issuer =
          X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded());
      // The names live in the SANs (the only place Go and the JDK look); a CN of
      // <service>.<namespace>.svc
      // could exceed the 64 characters RFC 5280 allows, so the CN is a fixed label.
      X500Name subject = new X500Name("CN=keywarden-injector");
      // Never outlive the CA: a certificate beyond its issuer's validity fails verification anyway.
      Duration validity =
          Duration.between(now, ca.notAfter()).compareTo(SERVING_VALIDITY) < 0
              ? Duration.between(now, ca.notAfter())
              : SERVING_VALIDITY;
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
      throw new IllegalStateException("cannot issue the webhook serving certificate", e);
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
