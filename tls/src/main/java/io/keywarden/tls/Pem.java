package io.keywarden.tls;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * PEM encoding of certificates and (unencrypted PKCS#8) keys, the form Secrets, cert-manager and
 * Vert.x use.
 */
public final class Pem {

  private Pem() {}

  public static String certificate(X509Certificate certificate) {
    return write(certificate);
  }

  public static String privateKey(PrivateKey key) {
    try {
      return write(new JcaPKCS8Generator(key, null).generate());
    } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
      throw new IllegalStateException("cannot encode the private key", e);
    }
  }

  public static X509Certificate parseCertificate(String pem) {
    Object object = read(pem);
    if (!(object instanceof X509CertificateHolder holder)) {
      throw new IllegalArgumentException("not a PEM certificate");
    }
    try {
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (CertificateException e) {
      throw new IllegalArgumentException("not a valid certificate", e);
    }
  }

  /** Every certificate of a PEM chain (a cert-manager tls.crt holds the leaf, then issuers). */
  public static List<X509Certificate> parseCertificates(String pem) {
    List<X509Certificate> certificates = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
        if (object instanceof X509CertificateHolder holder) {
          certificates.add(new JcaX509CertificateConverter().getCertificate(holder));
        }
      }
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException("not a valid PEM certificate chain", e);
    }
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException("no PEM certificate found");
    }
    return certificates;
  }

  public static PrivateKey parsePrivateKey(String pem) {
    Object object = read(pem);
    try {
      if (object instanceof PrivateKeyInfo info) {
        return new JcaPEMKeyConverter().getPrivateKey(info);
      }
      if (object instanceof PEMKeyPair pair) {
        return new JcaPEMKeyConverter().getKeyPair(pair).getPrivate();
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("not a valid private key", e);
    }
    // No detail: the input is key material.
    throw new IllegalArgumentException("not a PEM private key");
  }

  private static Object read(String pem) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      return parser.readObject();
    } catch (IOException e) {
      throw new IllegalArgumentException("not valid PEM", e);
    }
  }

  private static String write(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }
}
