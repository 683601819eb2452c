package io.keywarden.operator.kms.pkcs11;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.failure.KmsException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One version of a master key as the token knows it: the CKA_LABEL {@code <key-id>.v<N>} of an AES
 * secret key object, the same {@code name.vN} scheme as the local provider's entries. Objects whose
 * label does not fit the scheme belong to someone else and are left alone.
 */
record KeyLabel(String keyId, int version) {

  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,62}");
  private static final Pattern LABEL = Pattern.compile("^(.+)\\.v([1-9][0-9]{0,8})$");

  String label() {
    return keyId + ".v" + version;
  }

  static Optional<KeyLabel> parse(String label) {
    Matcher m = LABEL.matcher(label);
    if (!m.matches() || !KEY_ID.matcher(m.group(1)).matches()) {
      return Optional.empty();
    }
    return Optional.of(new KeyLabel(m.group(1), Integer.parseInt(m.group(2))));
  }

  /** A key id from keywarden.kms.keys.ALIAS.key-id must make labels that parse back to it. */
  static String validKeyId(String keyId) {
    if (keyId == null || !KEY_ID.matcher(keyId).matches()) {
      throw new KmsException(
          ManagedSecretConditions.INVALID_KEY_ID,
          "pkcs11 key id '"
              + keyId
              + "' (keywarden.kms.keys.<alias>.key-id) must be 1-63 "
              + "letters, digits or . _ : -, starting with a letter or digit; versions are the token objects labelled <key-id>.v<N>");
    }
    return keyId;
  }

  @Override
  public String toString() {
    return label();
  }
}
