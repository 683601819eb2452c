package io.keywarden.operator.kms.pkcs11;

import java.util.Optional;

/**
 * Reads SunPKCS11's exception chains: the PKCS#11 return value (CKR_...) says most about a failure.
 */
final class Pkcs11Errors {

  private Pkcs11Errors() {}

  /** The CKR_ name carried by a sun.security.pkcs11.wrapper.PKCS11Exception in the cause chain. */
  static Optional<String> returnValue(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if ("PKCS11Exception".equals(t.getClass().getSimpleName()) && t.getMessage() != null) {
        return Optional.of(t.getMessage().strip());
      }
    }
    return Optional.empty();
  }

  /**
   * The return value if there is one, else the innermost cause's message: "load failed" says
   * nothing.
   */
  static String describe(Throwable e) {
    return returnValue(e)
        .orElseGet(
            () -> {
              Throwable root = e;
              while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
              }
              return root.getMessage() == null
                  ? root.getClass().getSimpleName()
                  : root.getMessage();
            });
  }
}
