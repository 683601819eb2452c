package io.keywarden.operator.api.tls;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
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
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A private CA and the serving certificates it signs, made with Bouncy Castle (EC P-256, which
 * keeps TLS handshakes cheap). PEM in, PEM out.
 */
public final class Certificates {

  public record Pem(String certificate, String privateKey) {
    @Override
    public String toString() {
      return "Pem[certificate, redacted key]";
    }
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private Certificates() {}

  public static Pem newCa(String commonName, Duration validity) {
    KeyPair keys = ecKeyPair();
    X500Name subject = new X500Name("CN=" + commonName);
    try {
      JcaX509v3CertificateBuilder builder = builder(subject, subject, keys.getPublic(), validity);
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      builder.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
      return new Pem(pem(sign(builder, keys.getPrivate())), pem(keys.getPrivate()));
    } catch (Exception e) {
      throw new IllegalStateException("cannot create CA certificate", e);
    }
  }

  /** A serving certificate for the DNS names and IP addresses given, signed by the CA. */
  public static Pem newServing(Pem ca, String commonName, List<String> names, Duration validity) {
    KeyPair keys = ecKeyPair();
    try {
      X509Certificate caCert = certificate(ca.certificate());
      JcaX509v3CertificateBuilder builder =
          builder(
              X500Name.getInstance(caCert.getSubjectX500Principal().getEncoded()),
              new X500Name("CN=" + commonName),
              keys.getPublic(),
              validity);
      List<GeneralName> sans = new ArrayList<>();
      for (String name : names) {
        sans.add(
            isIp(name)
                ? new GeneralName(GeneralName.iPAddress, name)
                : new GeneralName(GeneralName.dNSName, name));
      }
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(sans.toArray(GeneralName[]::new)));
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      builder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      builder.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(caCert));
      return new Pem(pem(sign(builder, privateKey(ca.privateKey()))), pem(keys.getPrivate()));
    } catch (Exception e) {
      throw new IllegalStateException("cannot create serving certificate", e);
    }
  }

  public static X509Certificate certificate(String pem) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      return new JcaX509CertificateConverter()
          .getCertificate((X509CertificateHolder) parser.readObject());
    } catch (Exception e) {
      throw new IllegalArgumentException("not a PEM certificate", e);
    }
  }

  public static PrivateKey privateKey(String pem) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (object instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      return converter.getPrivateKey((org.bouncycastle.asn1.pkcs.PrivateKeyInfo) object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static boolean expiresWithin(String certificatePem, Duration margin) {
    return certificate(certificatePem)
        .getNotAfter()
        .toInstant()
        .isBefore(Instant.now().plus(margin));
  }

  private static JcaX509v3CertificateBuilder builder(
      X500Name issuer, X500Name subject, java.security.PublicKey key, Duration validity) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(
        issuer,
        new BigInteger(127, RANDOM).add(BigInteger.ONE),
        Date.from(now.minus(Duration.ofMinutes(5))),
        Date.from(now.plus(validity)),
        subject,
        key);
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder builder, PrivateKey key)
      throws Exception {
    return new JcaX509CertificateConverter()
        .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
  }

  private static KeyPair ecKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(
          object instanceof PrivateKey key ? new JcaPKCS8Generator(key, null) : object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static boolean isIp(String name) {
    if (!name.matches("[0-9.]+|.*:.*")) {
      return false;
    }
    try {
      InetAddress.getByName(name);
      return true;
    } catch (Exception e) {
      return false;
    }
  }
}
