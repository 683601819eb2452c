package io.keywarden.operator.generate;

import io.keywarden.api.v1alpha1.GenerateSpec;
import io.keywarden.operator.failure.InvalidSpecException;
import java.util.ArrayList;
import java.util.List;

/**
 * GetRandomPassword parameters, validated into the character classes to draw from. Follows the AWS
 * Secrets Manager semantics: punctuation is the 32 ASCII punctuation characters, space only when
 * asked for, and with requireEachIncludedType every included class appears at least once.
 */
public record PasswordPolicy(int length, List<String> classes, boolean requireEach) {

  public static final String LOWERCASE = "abcdefghijklmnopqrstuvwxyz";
  public static final String UPPERCASE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  public static final String NUMBERS = "0123456789";
  public static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  public static final String SPACE = " ";
  public static final int MAX_LENGTH = 4096;

  public PasswordPolicy {
    classes = List.copyOf(classes);
  }

  public static PasswordPolicy from(GenerateSpec spec, String field) {
    int length = spec.getPasswordLength() == null ? 32 : spec.getPasswordLength();
    if (length < 1 || length > MAX_LENGTH) {
      throw new InvalidSpecException(
          field + ".passwordLength", "must be between 1 and " + MAX_LENGTH + ", got " + length);
    }
    String excluded = spec.getExcludeCharacters() == null ? "" : spec.getExcludeCharacters();
    boolean requireEach = !Boolean.FALSE.equals(spec.getRequireEachIncludedType());
    List<String> classes = new ArrayList<>();
    add(
        classes,
        !isTrue(spec.getExcludeLowercase()),
        LOWERCASE,
        excluded,
        requireEach,
        field,
        "lowercase letters");
    add(
        classes,
        !isTrue(spec.getExcludeUppercase()),
        UPPERCASE,
        excluded,
        requireEach,
        field,
        "uppercase letters");
    add(
        classes,
        !isTrue(spec.getExcludeNumbers()),
        NUMBERS,
        excluded,
        requireEach,
        field,
        "numbers");
    add(
        classes,
        !isTrue(spec.getExcludePunctuation()),
        PUNCTUATION,
        excluded,
        requireEach,
        field,
        "punctuation");
    add(classes, isTrue(spec.getIncludeSpace()), SPACE, excluded, requireEach, field, "space");
    if (classes.isEmpty()) {
      throw new InvalidSpecException(
          field, "excludes every character; allow at least one character type");
    }
    if (requireEach && length < classes.size()) {
      throw new InvalidSpecException(
          field + ".passwordLength",
          "is "
              + length
              + " but requireEachIncludedType needs at least "
              + classes.size()
              + " characters, one of each included type");
    }
    return new PasswordPolicy(length, classes, requireEach);
  }

  private static void add(
      List<String> classes,
      boolean included,
      String chars,
      String excluded,
      boolean requireEach,
      String field,
      String label) {
    if (!included) {
      return;
    }
    StringBuilder kept = new StringBuilder();
    chars.chars().filter(c -> excluded.indexOf(c) < 0).forEach(c -> kept.append((char) c));
    if (kept.isEmpty()) {
      if (requireEach) {
        throw new InvalidSpecException(
            field + ".excludeCharacters",
            "removes all "
                + label
                + " but requireEachIncludedType needs one; exclude the type instead or set requireEachIncludedType to false");
      }
      return;
    }
    classes.add(kept.toString());
  }

  private static boolean isTrue(Boolean b) {
    return Boolean.TRUE.equals(b);
  }
}
