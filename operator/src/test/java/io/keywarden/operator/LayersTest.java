package io.keywarden.operator;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Who may call whom in the operator (docs/architecture.md draws the same picture). Controllers sit
 * on top; the API and the rotation engine call versions, never a controller; versions owns the
 * ledger and the ciphertext; kms sits above the crypto primitives; failure, kube, config and
 * metrics are the floor everyone stands on. Any dependency against the arrows, and any cycle
 * between packages, fails here.
 */
class LayersTest {

  private static JavaClasses classes;

  @BeforeAll
  static void importOperator() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.keywarden.operator");
  }

  @Test
  void eachLayerUsesOnlyTheLayersBelowIt() {
    layeredArchitecture()
        .consideringOnlyDependenciesInLayers()
        .layer("Controllers")
        .definedBy(
            "io.keywarden.operator.managedsecret..", "io.keywarden.operator.rotationschedule..")
        .layer("Api")
        .definedBy("io.keywarden.operator.api..")
        .layer("Rotation")
        .definedBy("io.keywarden.operator.rotation..")
        .layer("Access")
        .definedBy("io.keywarden.operator.access..")
        .layer("Versions")
        .definedBy("io.keywarden.operator.versions..")
        .layer("Generate")
        .definedBy("io.keywarden.operator.generate..")
        .layer("Kms")
        .definedBy("io.keywarden.operator.kms..")
        .layer("Crypto")
        .definedBy("io.keywarden.operator.crypto..")
        .layer("Floor")
        .definedBy(
            "io.keywarden.operator.failure..",
            "io.keywarden.operator.kube..",
            "io.keywarden.operator.config..",
            "io.keywarden.operator.metrics..")
        .whereLayer("Controllers")
        .mayNotBeAccessedByAnyLayer()
        .whereLayer("Api")
        .mayNotBeAccessedByAnyLayer()
        .whereLayer("Rotation")
        .mayOnlyBeAccessedByLayers("Controllers")
        .whereLayer("Access")
        .mayOnlyBeAccessedByLayers("Api")
        .whereLayer("Versions")
        .mayOnlyBeAccessedByLayers("Controllers", "Api", "Rotation")
        .whereLayer("Generate")
        .mayOnlyBeAccessedByLayers("Controllers", "Api", "Rotation")
        .whereLayer("Kms")
        .mayOnlyBeAccessedByLayers("Controllers", "Rotation", "Versions")
        .whereLayer("Crypto")
        .mayOnlyBeAccessedByLayers(
            "Controllers", "Api", "Rotation", "Access", "Versions", "Generate", "Kms")
        .check(classes);
  }

  @Test
  void noCyclesBetweenPackages() {
    slices().matching("io.keywarden.operator.(*)..").should().beFreeOfCycles().check(classes);
  }

  @Test
  void theFloorDependsOnNothingAboveIt() {
    layeredArchitecture()
        .consideringOnlyDependenciesInLayers()
        .layer("Floor")
        .definedBy(
            "io.keywarden.operator.failure..",
            "io.keywarden.operator.kube..",
            "io.keywarden.operator.config..",
            "io.keywarden.operator.metrics..")
        .layer("Everything else")
        .definedBy(
            "io.keywarden.operator.managedsecret..",
            "io.keywarden.operator.rotationschedule..",
            "io.keywarden.operator.api..",
            "io.keywarden.operator.rotation..",
            "io.keywarden.operator.access..",
            "io.keywarden.operator.versions..",
            "io.keywarden.operator.generate..",
            "io.keywarden.operator.kms..",
            "io.keywarden.operator.crypto..")
        .whereLayer("Everything else")
        .mayNotBeAccessedByAnyLayer()
        .check(classes);
  }
}
