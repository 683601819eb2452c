package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.api.v1alpha1.FromSecretSpec;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.ManagedSecretSpec;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.InvalidSpecException;
import io.keywarden.operator.generate.ValueGenerator;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Base64;
import java.util.TreeSet;

/** The first value of a ManagedSecret, from spec.generate or spec.fromSecret. */
@ApplicationScoped
public class InitialValue {

  private final KubernetesClient client;
  private final ValueGenerator generator;

  public InitialValue(KubernetesClient client, ValueGenerator generator) {
    this.client = client;
    this.generator = generator;
  }

  /** Checks what can be checked without producing a value, so that bad input is reported first. */
  public void validate(ManagedSecretSpec spec) {
    if ((spec.getGenerate() == null) == (spec.getFromSecret() == null)) {
      throw new InvalidSpecException("spec", "must set exactly one of generate or fromSecret");
    }
    if (spec.getGenerate() != null) {
      generator.validate(spec.getGenerate());
    }
  }

  public SecretValue produce(ManagedSecret secret) {
    ManagedSecretSpec spec = secret.getSpec();
    validate(spec);
    if (spec.getGenerate() != null) {
      return generator.generate(spec.getGenerate());
    }
    return importFrom(secret.getMetadata().getNamespace(), spec.getFromSecret());
  }

  private SecretValue importFrom(String namespace, FromSecretSpec from) {
    Secret source;
    try {
      source = client.secrets().inNamespace(namespace).withName(from.getName()).get();
    } catch (KubernetesClientException e) {
      throw new InvalidSpecException(
          "spec.fromSecret.name",
          "Secret "
              + namespace
              + "/"
              + from.getName()
              + " cannot be read: "
              + e.getCode()
              + " "
              + (e.getStatus() == null ? "" : e.getStatus().getReason()),
          ManagedSecretConditions.SOURCE_SECRET_UNREADABLE);
    }
    if (source == null) {
      throw new InvalidSpecException(
          "spec.fromSecret.name",
          "Secret " + namespace + "/" + from.getName() + " does not exist",
          ManagedSecretConditions.SOURCE_SECRET_NOT_FOUND);
    }
    String encoded = source.getData() == null ? null : source.getData().get(from.getKey());
    if (encoded == null) {
      var keys =
          source.getData() == null
              ? new TreeSet<String>()
              : new TreeSet<>(source.getData().keySet());
      throw new InvalidSpecException(
          "spec.fromSecret.key",
          "Secret "
              + namespace
              + "/"
              + from.getName()
              + " has no key '"
              + from.getKey()
              + "' (keys: "
              + String.join(", ", keys)
              + ")",
          ManagedSecretConditions.SOURCE_KEY_NOT_FOUND);
    }
    byte[] bytes = Base64.getDecoder().decode(encoded);
    if (bytes.length > KeywardenApi.MAX_VALUE_BYTES) {
      int size = bytes.length;
      java.util.Arrays.fill(bytes, (byte) 0);
      throw new InvalidSpecException(
          "spec.fromSecret",
          "value of Secret "
              + namespace
              + "/"
              + from.getName()
              + " key '"
              + from.getKey()
              + "' is "
              + size
              + " bytes; the limit is "
              + KeywardenApi.MAX_VALUE_BYTES,
          ManagedSecretConditions.VALUE_TOO_LARGE);
    }
    if (bytes.length == 0) {
      throw new InvalidSpecException(
          "spec.fromSecret.key",
          "Secret " + namespace + "/" + from.getName() + " key '" + from.getKey() + "' is empty",
          ManagedSecretConditions.SOURCE_KEY_EMPTY);
    }
    SecretValue value = SecretValue.of(bytes);
    java.util.Arrays.fill(bytes, (byte) 0);
    return value;
  }
}
