package io.keywarden.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/**
 * Random value parameters, named and defaulted as AWS GetRandomPassword and CloudFormation's
 * GenerateSecretString, so that users can carry their templates over.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "!(self.excludeNumbers && self.excludePunctuation && self.excludeUppercase && self.excludeLowercase && !self.includeSpace)",
    message =
        "spec.generate excludes every character type: allow at least one of numbers, punctuation, uppercase, lowercase or space",
    reason = "FieldValueInvalid")
@ValidationRule(
    value =
        "!self.requireEachIncludedType || self.passwordLength >= "
            + "(self.excludeNumbers ? 0 : 1) + (self.excludePunctuation ? 0 : 1) + (self.excludeUppercase ? 0 : 1) "
            + "+ (self.excludeLowercase ? 0 : 1) + (self.includeSpace ? 1 : 0)",
    message = "spec.generate.passwordLength is shorter than the number of required character types",
    fieldPath = ".passwordLength",
    reason = "FieldValueInvalid")
@ValidationRule(
    value = "size(self.generateStringKeys) == 0 || has(self.secretStringTemplate)",
    message = "spec.generate.generateStringKeys needs spec.generate.secretStringTemplate",
    fieldPath = ".generateStringKeys",
    reason = "FieldValueRequired")
public class GenerateSpec {

  @JsonPropertyDescription("Length of each generated string (AWS PasswordLength).")
  @Min(1)
  @Max(4096)
  @Default("32")
  private Integer passwordLength = 32;

  @JsonPropertyDescription("Characters that never appear in a generated string.")
  @Size(max = 4096)
  private String excludeCharacters;

  @Default("false")
  private Boolean excludeNumbers = false;

  @Default("false")
  private Boolean excludePunctuation = false;

  @Default("false")
  private Boolean excludeUppercase = false;

  @Default("false")
  private Boolean excludeLowercase = false;

  @Default("false")
  private Boolean includeSpace = false;

  @JsonPropertyDescription("Each included character type appears at least once.")
  @Default("true")
  private Boolean requireEachIncludedType = true;

  @JsonPropertyDescription(
      "A JSON object whose keys are kept as they are, e.g. {\"username\":\"app\"}. "
          + "With it the value is JSON and generateStringKeys name the keys that get generated strings.")
  @Size(max = 16384)
  private String secretStringTemplate;

  @JsonPropertyDescription(
      "Keys of secretStringTemplate whose values are generated (and regenerated on rotation).")
  @Size(max = 32)
  @Default("[]")
  private List<String> generateStringKeys = new ArrayList<>();

  public Integer getPasswordLength() {
    return passwordLength;
  }

  public void setPasswordLength(Integer passwordLength) {
    this.passwordLength = passwordLength;
  }

  public String getExcludeCharacters() {
    return excludeCharacters;
  }

  public void setExcludeCharacters(String excludeCharacters) {
    this.excludeCharacters = excludeCharacters;
  }

  public Boolean getExcludeNumbers() {
    return excludeNumbers;
  }

  public void setExcludeNumbers(Boolean excludeNumbers) {
    this.excludeNumbers = excludeNumbers;
  }

  public Boolean getExcludePunctuation() {
    return excludePunctuation;
  }

  public void setExcludePunctuation(Boolean excludePunctuation) {
    this.excludePunctuation = excludePunctuation;
  }

  public Boolean getExcludeUppercase() {
    return excludeUppercase;
  }

  public void setExcludeUppercase(Boolean excludeUppercase) {
    this.excludeUppercase = excludeUppercase;
  }

  public Boolean getExcludeLowercase() {
    return excludeLowercase;
  }

  public void setExcludeLowercase(Boolean excludeLowercase) {
    this.excludeLowercase = excludeLowercase;
  }

  public Boolean getIncludeSpace() {
    return includeSpace;
  }

  public void setIncludeSpace(Boolean includeSpace) {
    this.includeSpace = includeSpace;
  }

  public Boolean getRequireEachIncludedType() {
    return requireEachIncludedType;
  }

  public void setRequireEachIncludedType(Boolean requireEachIncludedType) {
    this.requireEachIncludedType = requireEachIncludedType;
  }

  public String getSecretStringTemplate() {
    return secretStringTemplate;
  }

  public void setSecretStringTemplate(String secretStringTemplate) {
    this.secretStringTemplate = secretStringTemplate;
  }

  public List<String> getGenerateStringKeys() {
    return generateStringKeys;
  }

  public void setGenerateStringKeys(List<String> generateStringKeys) {
    this.generateStringKeys = generateStringKeys;
  }
}
