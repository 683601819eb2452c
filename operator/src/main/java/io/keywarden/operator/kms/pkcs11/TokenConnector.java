package io.keywarden.operator.kms.pkcs11;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.failure.KmsException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.Provider;
import java.security.ProviderException;
import java.security.SecureRandom;
import java.security.Security;
import java.util.Arrays;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jboss.logging.Logger;

/**
 * Turns keywarden.kms.pkcs11.* into a logged-in {@link Pkcs11Token}: checks the module, finds the
 * slot, configures a SunPKCS11 instance (not registered globally, so it serves only Keywarden) and
 * logs in with the PIN. Every failure names the setting to fix.
 *
 * <p>A PIN the token refused is not tried again until the PIN source changes: HSMs lock the user
 * PIN after a few wrong attempts, and reconciliations retry for ever.
 */
@ApplicationScoped
public class TokenConnector {

  private static final Logger LOG = Logger.getLogger(TokenConnector.class);

  /**
   * What SunPKCS11 puts on the AES keys it generates, i.e. on master keys: never readable in plain
   * (sensitive), never exportable even wrapped (not extractable), and usable only to encrypt and
   * decrypt, not to wrap other token keys, sign or derive.
   */
  private static final String MASTER_KEY_ATTRIBUTES =
      """
      attributes(generate, CKO_SECRET_KEY, CKK_AES) = {
        CKA_SENSITIVE = true
        CKA_EXTRACTABLE = false
        CKA_ENCRYPT = true
        CKA_DECRYPT = true
        CKA_WRAP = false
        CKA_UNWRAP = false
        CKA_SIGN = false
        CKA_VERIFY = false
        CKA_DERIVE = false
      }
      """;

  private final KeywardenConfig config;
  private final PinSource pins;

  /** A keyed digest of the PIN that failed, so the PIN itself is not kept. */
  private final byte[] pinDigestKey = new byte[32];

  private volatile byte[] failedPin;
  private volatile String failedReason;

  public TokenConnector(KeywardenConfig config, PinSource pins) {
    this.config = config;
    this.pins = pins;
    new SecureRandom().nextBytes(pinDigestKey);
  }

  Pkcs11Token connect() {
    KeywardenConfig.Pkcs11 settings = config.kms().pkcs11();
    String library = settings.library();
    if (!Files.isRegularFile(Path.of(library))) {
      throw new KmsException(
          ManagedSecretConditions.KMS_LIBRARY_NOT_FOUND,
          "keywarden.kms.pkcs11.library: "
              + library
              + " does not exist; install the "
              + "HSM's PKCS#11 module (SoftHSM2: the softhsm2 package) or point the setting at it");
    }
    if (settings.pinFile().isPresent() == settings.pinSecretName().isPresent()) {
      throw new KmsException(
          ManagedSecretConditions.KMS_MISCONFIGURED,
          "the pkcs11 provider needs exactly one of keywarden.kms.pkcs11.pin-file and "
              + "keywarden.kms.pkcs11.pin-secret-name");
    }
    if (settings.tokenLabel().isPresent() && settings.slot().isPresent()) {
      throw new KmsException(
          ManagedSecretConditions.KMS_MISCONFIGURED,
          "set keywarden.kms.pkcs11.token-label or keywarden.kms.pkcs11.slot, not both");
    }
    Optional<Long> slot =
        settings.tokenLabel().map(label -> TokenSlots.slotOf(library, label)).or(settings::slot);
    String name =
        "PKCS#11 token "
            + settings.tokenLabel().map(l -> "'" + l + "' (slot ").orElse("(slot ")
            + slot.map(String::valueOf).orElse("list index 0")
            + " of "
            + library
            + ")";
    Provider provider = configure(library, slot, name);
    KeyStore keyStore = login(provider, name);
    LOG.infof("logged in to %s", name);
    return new Pkcs11Token(provider, keyStore, name);
  }

  private static Provider configure(String library, Optional<Long> slot, String name) {
    String configuration =
        "--name = keywarden\nlibrary = \""
            + library
            + "\"\n"
            + slot.map(s -> "slot = " + s).orElse("slotListIndex = 0")
            + "\n"
            + MASTER_KEY_ATTRIBUTES;
    Provider base = Security.getProvider("SunPKCS11");
    if (base == null) {
      throw new KmsException(
          ManagedSecretConditions.KMS_MISCONFIGURED,
          "this JVM has no SunPKCS11 provider (module jdk.crypto.cryptoki)");
    }
    try {
      return base.configure(configuration);
    } catch (ProviderException | IllegalArgumentException e) {
      String reason =
          Pkcs11Errors.returnValue(e)
              .filter(r -> r.startsWith("CKR_SLOT_ID_INVALID") || r.startsWith("CKR_TOKEN_NOT"))
              .map(r -> ManagedSecretConditions.KMS_TOKEN_NOT_FOUND)
              .orElse(ManagedSecretConditions.KMS_UNAVAILABLE);
      throw new KmsException(
          reason,
          "cannot open "
              + name
              + ": "
              + Pkcs11Errors.describe(e)
              + (ManagedSecretConditions.KMS_TOKEN_NOT_FOUND.equals(reason)
                  ? "; check keywarden.kms.pkcs11.slot or token-label"
                  : ""),
          e);
    }
  }

  private KeyStore login(Provider provider, String name) {
    char[] pin = pins.read();
    try {
      byte[] digest = digest(pin);
      if (failedPin != null && MessageDigest.isEqual(digest, failedPin)) {
        throw new KmsException(
            ManagedSecretConditions.KMS_LOGIN_FAILED,
            loginFailed(name, failedReason)
                + "; the same PIN is not tried again until "
                + pins.describe()
                + " changes, so that the token does not lock it");
      }
      KeyStore keyStore = KeyStore.getInstance("PKCS11", provider);
      try {
        keyStore.load(null, pin);
      } catch (IOException e) {
        String reason = Pkcs11Errors.returnValue(e).orElse(null);
        if (reason != null && reason.startsWith("CKR_PIN")) {
          failedPin = digest;
          failedReason = reason;
          throw new KmsException(
              ManagedSecretConditions.KMS_LOGIN_FAILED, loginFailed(name, reason), e);
        }
        throw new KmsException(
            ManagedSecretConditions.KMS_UNAVAILABLE,
            "cannot log in to " + name + ": " + Pkcs11Errors.describe(e),
            e);
      }
      failedPin = null;
      return keyStore;
    } catch (GeneralSecurityException e) {
      throw new KmsException(
          ManagedSecretConditions.KMS_UNAVAILABLE,
          "cannot log in to " + name + ": " + Pkcs11Errors.describe(e),
          e);
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  private String loginFailed(String name, String reason) {
    return "login to "
        + name
        + " failed with the PIN from "
        + pins.describe()
        + ": "
        + reason
        + (reason.startsWith("CKR_PIN_LOCKED")
            ? " (the token locked the user PIN; unlock it with the SO PIN)"
            : "");
  }

  private byte[] digest(char[] pin) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(pinDigestKey, "HmacSHA256"));
      var bytes = StandardCharsets.UTF_8.encode(CharBuffer.wrap(pin));
      mac.update(bytes);
      Arrays.fill(bytes.array(), (byte) 0);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
