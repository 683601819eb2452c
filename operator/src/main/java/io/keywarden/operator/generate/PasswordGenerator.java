package io.keywarden.operator.generate;

import java.security.SecureRandom;

/** Random strings under a {@link PasswordPolicy}, drawn from a SecureRandom with no modulo bias. */
public final class PasswordGenerator {

  private static final SecureRandom RANDOM = new SecureRandom();

  private PasswordGenerator() {}

  public static String generate(PasswordPolicy policy) {
    char[] out = new char[policy.length()];
    String pool = String.join("", policy.classes());
    int i = 0;
    if (policy.requireEach()) {
      for (String characterClass : policy.classes()) {
        out[i++] = pick(characterClass);
      }
    }
    while (i < out.length) {
      out[i++] = pick(pool);
    }
    // Fisher-Yates, so the guaranteed characters are not always in front.
    for (int j = out.length - 1; j > 0; j--) {
      int k = RANDOM.nextInt(j + 1);
      char t = out[j];
      out[j] = out[k];
      out[k] = t;
    }
    return new String(out);
  }

  private static char pick(String chars) {
    return chars.charAt(RANDOM.nextInt(chars.length()));
  }
}
