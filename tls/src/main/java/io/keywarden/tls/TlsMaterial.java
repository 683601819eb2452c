package io.keywarden.tls;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A self-issued CA and its serving certificate, as stored in a kubernetes.io/tls Secret (base64 of
 * PEM): {@code tls.crt}/{@code tls.key} (serving), {@code ca.crt}/{@code ca.key}; {@code
 * ca-next.crt}/{@code ca-next.key} while a new CA is published ahead of its use; {@code
 * ca-previous.crt} after a CA rotation, so that replicas still serving a certificate of the old CA
 * stay trusted until they reload.
 */
public record TlsMaterial(
    IssuedCertificate ca,
    IssuedCertificate serving,
    Optional<X509Certificate> previousCa,
    Optional<IssuedCertificate> nextCa) {

  static final String TLS_CRT = "tls.crt";
  static final String TLS_KEY = "tls.key";
  static final String CA_CRT = "ca.crt";
  static final String CA_KEY = "ca.key";
  static final String NEXT_CA_CRT = "ca-next.crt";
  static final String NEXT_CA_KEY = "ca-next.key";
  static final String PREVIOUS_CA_CRT = "ca-previous.crt";

  public TlsMaterial {
    Objects.requireNonNull(ca, "ca");
    Objects.requireNonNull(serving, "serving");
    Objects.requireNonNull(previousCa, "previousCa");
    Objects.requireNonNull(nextCa, "nextCa");
  }

  public TlsMaterial(IssuedCertificate ca, IssuedCertificate serving) {
    this(ca, serving, Optional.empty(), Optional.empty());
  }

  /**
   * What clients must trust (a webhook's caBundle, the API's published CA): the CA, the next one
   * once staged, and the previous one while it is valid.
   */
  public String caBundlePem(Instant now) {
    StringBuilder bundle = new StringBuilder(Pem.certificate(ca.certificate()));
    nextCa.ifPresent(next -> bundle.append(Pem.certificate(next.certificate())));
    previousCa
        .filter(previous -> previous.getNotAfter().toInstant().isAfter(now))
        .ifPresent(previous -> bundle.append(Pem.certificate(previous)));
    return bundle.toString();
  }

  /** The chain the server sends: the serving certificate, then its CA. */
  public X509Certificate[] chain() {
    return new X509Certificate[] {serving.certificate(), ca.certificate()};
  }

  public Map<String, String> toSecretData() {
    Map<String, String> data = new LinkedHashMap<>();
    data.put(TLS_CRT, base64(Pem.certificate(serving.certificate())));
    data.put(TLS_KEY, base64(Pem.privateKey(serving.key())));
    data.put(CA_CRT, base64(Pem.certificate(ca.certificate())));
    data.put(CA_KEY, base64(Pem.privateKey(ca.key())));
    nextCa.ifPresent(
        next -> {
          data.put(NEXT_CA_CRT, base64(Pem.certificate(next.certificate())));
          data.put(NEXT_CA_KEY, base64(Pem.privateKey(next.key())));
        });
    previousCa.ifPresent(previous -> data.put(PREVIOUS_CA_CRT, base64(Pem.certificate(previous))));
    return data;
  }

  /** Empty when a key is missing or unreadable: the caller then issues new material. */
  public static Optional<TlsMaterial> fromSecretData(Map<String, String> data) {
    if (data == null || !data.keySet().containsAll(List.of(TLS_CRT, TLS_KEY, CA_CRT, CA_KEY))) {
      return Optional.empty();
    }
    try {
      IssuedCertificate ca = issued(data, CA_CRT, CA_KEY);
      IssuedCertificate serving = issued(data, TLS_CRT, TLS_KEY);
      Optional<X509Certificate> previous =
          Optional.ofNullable(data.get(PREVIOUS_CA_CRT))
              .map(value -> Pem.parseCertificate(decode(value)));
      // A half-written next CA (one of the two keys) counts as none: the policy stages another.
      Optional<IssuedCertificate> next =
          data.containsKey(NEXT_CA_CRT) && data.containsKey(NEXT_CA_KEY)
              ? Optional.of(issued(data, NEXT_CA_CRT, NEXT_CA_KEY))
              : Optional.empty();
      return Optional.of(new TlsMaterial(ca, serving, previous, next));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  @Override
  public String toString() {
    return "TlsMaterial[ca="
        + ca
        + ", serving="
        + serving
        + nextCa.map(next -> ", nextCa=" + next).orElse("")
        + "]";
  }

  private static IssuedCertificate issued(Map<String, String> data, String crt, String key) {
    return new IssuedCertificate(
        Pem.parseCertificate(decode(data.get(crt))), Pem.parsePrivateKey(decode(data.get(key))));
  }

  private static String base64(String pem) {
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8));
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }
}
