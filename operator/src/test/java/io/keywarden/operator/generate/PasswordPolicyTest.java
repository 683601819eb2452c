package io.keywarden.operator.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.api.v1alpha1.GenerateSpec;
import io.keywarden.operator.failure.InvalidSpecException;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PasswordPolicyTest {

  static Stream<Arguments> impossibleParameters() {
    return Stream.of(
        Arguments.of(
            "zero length", spec(s -> s.setPasswordLength(0)), "spec.generate.passwordLength"),
        Arguments.of(
            "over 4096", spec(s -> s.setPasswordLength(4097)), "spec.generate.passwordLength"),
        Arguments.of(
            "every type excluded",
            spec(
                s -> {
                  s.setExcludeLowercase(true);
                  s.setExcludeUppercase(true);
                  s.setExcludeNumbers(true);
                  s.setExcludePunctuation(true);
                }),
            "spec.generate excludes every character"),
        Arguments.of(
            "shorter than required types",
            spec(s -> s.setPasswordLength(3)),
            "spec.generate.passwordLength is 3"),
        Arguments.of(
            "excludeCharacters removes all digits",
            spec(s -> s.setExcludeCharacters("0123456789")),
            "spec.generate.excludeCharacters removes all numbers"),
        Arguments.of(
            "excludeCharacters removes everything left",
            spec(
                s -> {
                  s.setExcludeLowercase(true);
                  s.setExcludeUppercase(true);
                  s.setExcludePunctuation(true);
                  s.setRequireEachIncludedType(false);
                  s.setExcludeCharacters("0123456789");
                }),
            "spec.generate excludes every character"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("impossibleParameters")
  void impossibleParametersNameTheField(String name, GenerateSpec spec, String expected) {
    assertThatThrownBy(() -> PasswordPolicy.from(spec, "spec.generate"))
        .isInstanceOf(InvalidSpecException.class)
        .hasMessageStartingWith(expected);
  }

  @Test
  void generatedPasswordHasTheLengthAndEveryIncludedType() {
    PasswordPolicy policy = PasswordPolicy.from(spec(s -> s.setPasswordLength(4)), "spec.generate");
    for (int i = 0; i < 500; i++) {
      String password = PasswordGenerator.generate(policy);
      assertThat(password)
          .hasSize(4)
          .containsPattern("[a-z]")
          .containsPattern("[A-Z]")
          .containsPattern("[0-9]")
          .containsPattern("[^A-Za-z0-9]");
    }
  }

  @Test
  void excludedCharactersAndTypesNeverAppear() {
    PasswordPolicy policy =
        PasswordPolicy.from(
            spec(
                s -> {
                  s.setPasswordLength(4096);
                  s.setExcludePunctuation(true);
                  s.setExcludeCharacters("aeiouAEIOU01");
                }),
            "spec.generate");
    String password = PasswordGenerator.generate(policy);
    assertThat(password)
        .hasSize(4096)
        .doesNotContainPattern("[aeiouAEIOU01]")
        .matches("[A-Za-z0-9]+");
  }

  @Test
  void spaceOnlyWhenAskedFor() {
    PasswordPolicy without =
        PasswordPolicy.from(spec(s -> s.setPasswordLength(4096)), "spec.generate");
    assertThat(PasswordGenerator.generate(without)).doesNotContain(" ");
    PasswordPolicy with =
        PasswordPolicy.from(
            spec(
                s -> {
                  s.setPasswordLength(5);
                  s.setIncludeSpace(true);
                }),
            "spec.generate");
    assertThat(PasswordGenerator.generate(with)).contains(" ");
  }

  @Test
  void punctuationIsTheAwsSet() {
    assertThat(PasswordPolicy.PUNCTUATION).hasSize(32);
  }

  private static GenerateSpec spec(Consumer<GenerateSpec> change) {
    GenerateSpec spec = new GenerateSpec();
    change.accept(spec);
    return spec;
  }
}
