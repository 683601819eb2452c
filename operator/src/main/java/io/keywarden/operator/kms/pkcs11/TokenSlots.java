package io.keywarden.operator.kms.pkcs11;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.failure.KmsException;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds a token's slot by its label. SunPKCS11 selects tokens only by slot id or slot list index,
 * and slot ids are not stable (SoftHSM2 derives them from the token serial at --init-token), so the
 * label is looked up through the JDK's own PKCS#11 wrapper, the one SunPKCS11 then shares: it loads
 * and initialises a module once per library path. The wrapper is JDK-internal, hence reflection and
 * the JVM option {@link #ADD_EXPORTS}, which the operator jar's manifest carries.
 */
final class TokenSlots {

  static final String ADD_EXPORTS = "jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED";
  private static final String WRAPPER = "sun.security.pkcs11.wrapper";

  /**
   * Same flags as SunPKCS11 itself passes to C_Initialize: the module may use OS threads and locks.
   */
  private static final long CKF_OS_LOCKING_OK = 0x2L;

  private static final long CKF_TOKEN_INITIALIZED = 0x400L;

  private TokenSlots() {}

  static long slotOf(String library, String tokenLabel) {
    try {
      Class<?> pkcs11 = Class.forName(WRAPPER + ".PKCS11");
      if (!pkcs11.getModule().isExported(WRAPPER, TokenSlots.class.getModule())) {
        throw new KmsException(
            ManagedSecretConditions.KMS_MISCONFIGURED,
            "keywarden.kms.pkcs11.token-label needs the JVM option --add-exports "
                + ADD_EXPORTS
                + " (the operator jar's manifest sets it; add it when starting the operator another way), "
                + "or select the token with keywarden.kms.pkcs11.slot");
      }
      Class<?> initArgsType = Class.forName(WRAPPER + ".CK_C_INITIALIZE_ARGS");
      Object initArgs = initArgsType.getConstructor().newInstance();
      initArgsType.getField("flags").setLong(initArgs, CKF_OS_LOCKING_OK);
      Object module =
          pkcs11
              .getMethod("getInstance", String.class, String.class, initArgsType, boolean.class)
              .invoke(null, library, "C_GetFunctionList", initArgs, false);
      long[] slots = (long[]) pkcs11.getMethod("C_GetSlotList", boolean.class).invoke(module, true);
      List<String> seen = new ArrayList<>();
      for (long slot : slots) {
        Object info = pkcs11.getMethod("C_GetTokenInfo", long.class).invoke(module, slot);
        long flags = info.getClass().getField("flags").getLong(info);
        if ((flags & CKF_TOKEN_INITIALIZED) == 0) {
          continue;
        }
        // CK_TOKEN_INFO.label is 32 characters, padded with blanks.
        String label =
            new String((char[]) info.getClass().getField("label").get(info)).stripTrailing();
        if (label.equals(tokenLabel)) {
          return slot;
        }
        seen.add("'" + label + "' (slot " + slot + ")");
      }
      throw new KmsException(
          ManagedSecretConditions.KMS_TOKEN_NOT_FOUND,
          "keywarden.kms.pkcs11.token-label: no initialised token labelled '"
              + tokenLabel
              + "' in "
              + library
              + "; tokens present: "
              + (seen.isEmpty() ? "none" : String.join(", ", seen)));
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      throw new KmsException(
          ManagedSecretConditions.KMS_UNAVAILABLE,
          "cannot list the tokens of PKCS#11 module "
              + library
              + ": "
              + cause.getClass().getSimpleName()
              + ": "
              + cause.getMessage(),
          cause);
    } catch (ReflectiveOperationException e) {
      throw new KmsException(
          ManagedSecretConditions.KMS_MISCONFIGURED,
          "keywarden.kms.pkcs11.token-label is not supported on this JVM ("
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage()
              + "); select the token with keywarden.kms.pkcs11.slot",
          e);
    }
  }
}
