package io.keywarden.injector.tls;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything the webhook's TLS needs, as stored in the Secret (base64 of PEM): {@code
 * tls.crt}/{@code tls.key} (serving; the kubernetes.io/tls keys), {@code ca.crt}/{@code ca.key},
 * and {@code ca-previous.crt} after a CA rotation, so that replicas still serving a certificate of
 * the old CA stay trusted until they reload.
 */
public record TlsMaterial(
    IssuedCertificate ca, IssuedCertificate serving, Optional<X509Certificate> previousCa) {

  static final String TLS_CRT = "tls.crt";
  static final String TLS_KEY = "tls.key";
  static final String CA_CRT = "ca.crt";
  static final String CA_KEY = "ca.key";
  static final String PREVIOUS_CA_CRT = "ca-previous.crt";

  public TlsMaterial {
    Objects.requireNonNull(ca, "ca");
    Objects.requireNonNull(serving, "serving");
    Objects.requireNonNull(previousCa, "previousCa");
  }

  /**
   * The caBundle for the webhook configuration: the CA, plus the previous one while it is valid.
   */
  public String caBundlePem(Instant now) {
    String bundle = Pem.certificate(ca.certificate());
    if (previousCa.isPresent() && previousCa.get().getNotAfter().toInstant().isAfter(now)) {
      bundle += Pem.certificate(previousCa.get());
    }
    return bundle;
  }

  public Map<String, String> toSecretData() {
    Map<String, String> data = new LinkedHashMap<>();
    data.put(TLS_CRT, base64(Pem.certificate(serving.certificate())));
    data.put(TLS_KEY, base64(Pem.privateKey(serving.key())));
    data.put(CA_CRT, base64(Pem.certificate(ca.certificate())));
    data.put(CA_KEY, base64(Pem.privateKey(ca.key())));
    previousCa.ifPresent(previous -> data.put(PREVIOUS_CA_CRT, base64(Pem.certificate(previous))));
    return data;
  }

  /** Empty when a key is missing or unreadable: the caller then issues new material. */
  public static Optional<TlsMaterial> fromSecretData(Map<String, String> data) {
    if (data == null
        || !data.keySet().containsAll(java.util.List.of(TLS_CRT, TLS_KEY, CA_CRT, CA_KEY))) {
      return Optional.empty();
    }
    try {
      IssuedCertificate ca =
          new IssuedCertificate(
              Pem.parseCertificate(decode(data.get(CA_CRT))),
              Pem.parsePrivateKey(decode(data.get(CA_KEY))));
      IssuedCertificate serving =
          new IssuedCertificate(
              Pem.parseCertificate(decode(data.get(TLS_CRT))),
              Pem.parsePrivateKey(decode(data.get(TLS_KEY))));
      Optional<X509Certificate> previous =
          Optional.ofNullable(data.get(PREVIOUS_CA_CRT))
              .map(value -> Pem.parseCertificate(decode(value)));
      return Optional.of(new TlsMaterial(ca, serving, previous));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  @Override
  public String toString() {
    return "TlsMaterial[ca=" + ca + ", serving=" + serving + "]";
  }

  private static String base64(String pem) {
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8));
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }
}
