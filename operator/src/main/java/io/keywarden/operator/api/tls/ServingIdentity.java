package io.keywarden.operator.api.tls;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.operator.config.KeywardenConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * The API's serving certificate: mounted files when configured, otherwise a generated CA and
 * certificate kept in a Secret of the operator namespace so every replica serves the same one. The
 * CA is published in the ConfigMap keywarden-api-ca for clients (the injector hands it to agents).
 */
public final class ServingIdentity {

  public static final String CA_CONFIGMAP = "keywarden-api-ca";
  private static final Logger LOG = Logger.getLogger(ServingIdentity.class);
  private static final Duration CA_VALIDITY = Duration.ofDays(5 * 365);
  private static final Duration SERVING_VALIDITY = Duration.ofDays(365);
  private static final Duration RENEW_BEFORE = Duration.ofDays(30);

  private ServingIdentity() {}

  public record Material(String certificateChain, String privateKey, String caCertificate) {
    @Override
    public String toString() {
      return "Material[redacted]";
    }
  }

  public static Material load(KubernetesClient client, KeywardenConfig config) {
    var api = config.api();
    if (api.certFile().isPresent() && api.keyFile().isPresent()) {
      String cert = read(api.certFile().get());
      return new Material(cert, read(api.keyFile().get()), cert);
    }
    String namespace = config.namespace();
    for (int attempt = 0; attempt < 5; attempt++) {
      Secret secret = client.secrets().inNamespace(namespace).withName(api.tlsSecretName()).get();
      try {
        if (secret != null && usable(secret)) {
          Material material = fromSecret(secret);
          publishCa(client, namespace, material.caCertificate());
          return material;
        }
        Certificates.Pem ca =
            secret != null
                    && secret.getData().containsKey("ca.crt")
                    && secret.getData().containsKey("ca.key")
                ? new Certificates.Pem(decode(secret, "ca.crt"), decode(secret, "ca.key"))
                : Certificates.newCa("keywarden-api-ca", CA_VALIDITY);
        Certificates.Pem serving =
            Certificates.newServing(ca, "keywarden-operator", names(config), SERVING_VALIDITY);
        Secret desired =
            new SecretBuilder()
                .withNewMetadata()
                .withName(api.tlsSecretName())
                .withNamespace(namespace)
                .addToLabels("app.kubernetes.io/part-of", "keywarden")
                .endMetadata()
                .withType("kubernetes.io/tls")
                .withData(
                    Map.of(
                        "tls.crt",
                        encode(serving.certificate()),
                        "tls.key",
                        encode(serving.privateKey()),
                        "ca.crt",
                        encode(ca.certificate()),
                        "ca.key",
                        encode(ca.privateKey())))
                .build();
        if (secret == null) {
          client.secrets().inNamespace(namespace).resource(desired).create();
        } else {
          desired.getMetadata().setResourceVersion(secret.getMetadata().getResourceVersion());
          client.secrets().inNamespace(namespace).resource(desired).update();
        }
        LOG.infof(
            "generated the API serving certificate in Secret %s/%s",
            namespace, api.tlsSecretName());
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        // Another replica wrote it first; read theirs on the next attempt.
      }
    }
    throw new IllegalStateException(
        "cannot establish the API serving certificate in Secret "
            + namespace
            + "/"
            + api.tlsSecretName());
  }

  static List<String> names(KeywardenConfig config) {
    String ns = config.namespace();
    List<String> names =
        new ArrayList<>(
            List.of(
                "keywarden-operator",
                "keywarden-operator." + ns,
                "keywarden-operator." + ns + ".svc",
                "keywarden-operator." + ns + ".svc.cluster.local",
                "localhost",
                "127.0.0.1"));
    config.api().extraSans().ifPresent(names::addAll);
    return names;
  }

  private static boolean usable(Secret secret) {
    var data = secret.getData();
    return data != null
        && data.containsKey("tls.crt")
        && data.containsKey("tls.key")
        && data.containsKey("ca.crt")
        && !Certificates.expiresWithin(decode(secret, "tls.crt"), RENEW_BEFORE);
  }

  private static Material fromSecret(Secret secret) {
    return new Material(
        decode(secret, "tls.crt"), decode(secret, "tls.key"), decode(secret, "ca.crt"));
  }

  private static void publishCa(KubernetesClient client, String namespace, String ca) {
    client
        .configMaps()
        .inNamespace(namespace)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(CA_CONFIGMAP)
                .withNamespace(namespace)
                .addToLabels("app.kubernetes.io/part-of", "keywarden")
                .endMetadata()
                .addToData("ca.crt", ca)
                .build())
        .fieldManager("keywarden-operator")
        .forceConflicts()
        .serverSideApply();
  }

  private static String decode(Secret secret, String key) {
    return new String(
        Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
  }

  private static String encode(String value) {
    return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
  }

  private static String read(String file) {
    try {
      return Files.readString(Path.of(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
