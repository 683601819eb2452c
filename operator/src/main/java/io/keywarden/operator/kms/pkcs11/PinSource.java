package io.keywarden.operator.kms.pkcs11;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.failure.KmsException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;

/**
 * The token's user PIN, from a mounted file or a Secret of the operator namespace. Read anew for
 * every login, so a corrected PIN takes effect without a restart. The PIN is never logged.
 */
@ApplicationScoped
public class PinSource {

  private final KubernetesClient client;
  private final KeywardenConfig config;

  public PinSource(KubernetesClient client, KeywardenConfig config) {
    this.client = client;
    this.config = config;
  }

  /** The PIN; the caller wipes it. */
  char[] read() {
    KeywardenConfig.Pkcs11 pkcs11 = config.kms().pkcs11();
    byte[] bytes = pkcs11.pinFile().isPresent() ? readFile(pkcs11.pinFile().get()) : readSecret();
    try {
      CharBuffer chars = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(bytes));
      int length = chars.limit();
      // Files and Secrets made with echo end in a newline that is not part of the PIN.
      while (length > 0 && (chars.get(length - 1) == '\n' || chars.get(length - 1) == '\r')) {
        length--;
      }
      if (length == 0) {
        throw new KmsException(
            ManagedSecretConditions.KMS_LOGIN_FAILED,
            "the PKCS#11 PIN from " + describe() + " is empty");
      }
      char[] pin = Arrays.copyOf(chars.array(), length);
      Arrays.fill(chars.array(), '\0');
      return pin;
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /** Where the PIN comes from, named as configured, for error messages. */
  String describe() {
    KeywardenConfig.Pkcs11 pkcs11 = config.kms().pkcs11();
    return pkcs11
        .pinFile()
        .map(f -> "keywarden.kms.pkcs11.pin-file (" + f + ")")
        .orElseGet(
            () ->
                "keywarden.kms.pkcs11.pin-secret-name (Secret "
                    + config.namespace()
                    + "/"
                    + pkcs11.pinSecretName().orElse("?")
                    + ", key "
                    + pkcs11.pinSecretKey()
                    + ")");
  }

  private static byte[] readFile(String file) {
    try {
      return Files.readAllBytes(Path.of(file));
    } catch (IOException e) {
      throw new KmsException(
          ManagedSecretConditions.KMS_LOGIN_FAILED,
          "cannot read the PKCS#11 PIN from keywarden.kms.pkcs11.pin-file "
              + file
              + ": "
              + e.getClass().getSimpleName(),
          e);
    }
  }

  private byte[] readSecret() {
    KeywardenConfig.Pkcs11 pkcs11 = config.kms().pkcs11();
    String name =
        pkcs11
            .pinSecretName()
            .orElseThrow(
                () ->
                    new KmsException(
                        ManagedSecretConditions.KMS_MISCONFIGURED,
                        "the pkcs11 provider needs a PIN: set keywarden.kms.pkcs11.pin-file or keywarden.kms.pkcs11.pin-secret-name"));
    Secret secret;
    try {
      secret = client.secrets().inNamespace(config.namespace()).withName(name).get();
    } catch (KubernetesClientException e) {
      throw new KmsException(
          ManagedSecretConditions.KMS_UNAVAILABLE,
          "cannot read the PKCS#11 PIN from " + describe() + ": " + e.getMessage(),
          e);
    }
    String encoded =
        secret == null || secret.getData() == null
            ? null
            : secret.getData().get(pkcs11.pinSecretKey());
    if (encoded == null) {
      throw new KmsException(
          ManagedSecretConditions.KMS_LOGIN_FAILED,
          "the PKCS#11 PIN is missing: "
              + describe()
              + (secret == null ? " does not exist" : " has no such key"));
    }
    return Base64.getDecoder().decode(encoded);
  }
}
