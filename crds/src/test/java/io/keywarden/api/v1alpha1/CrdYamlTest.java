package io.keywarden.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CRD YAML committed under crds/ is what users apply; it must be exactly what the model
 * generates. Run {@code make crds} (this test with -Dkeywarden.crds.update=true) after changing the
 * model.
 */
class CrdYamlTest {

  private static final Path COMMITTED = Path.of("").toAbsolutePath();

  @Test
  void committedCrdsMatchTheModel(@TempDir Path generated) throws IOException {
    new CRDGenerator()
        .customResourceClasses(ManagedSecret.class, RotationSchedule.class)
        .forCRDVersions("v1")
        .inOutputDir(generated.toFile())
        .generate();

    List<Path> files = yamlFiles(generated);
    assertThat(files)
        .extracting(f -> f.getFileName().toString())
        .containsExactly(
            "managedsecrets.keywarden.io-v1.yml", "rotationschedules.keywarden.io-v1.yml");

    if (Boolean.getBoolean("keywarden.crds.update")) {
      for (Path file : yamlFiles(COMMITTED)) {
        Files.delete(file);
      }
      for (Path file : files) {
        Files.copy(file, COMMITTED.resolve(file.getFileName()));
      }
    }
    for (Path file : files) {
      Path committed = COMMITTED.resolve(file.getFileName());
      assertThat(committed).as("crds/%s is missing: run `make crds`", file.getFileName()).exists();
      assertThat(Files.readString(committed, StandardCharsets.UTF_8))
          .as("crds/%s is stale: run `make crds` and commit the result", file.getFileName())
          .isEqualTo(Files.readString(file, StandardCharsets.UTF_8));
    }
    assertThat(yamlFiles(COMMITTED))
        .as("CRD files under crds/ that the model no longer generates")
        .hasSameSizeAs(files);
  }

  @Test
  void managedSecretCrdCarriesTheRulesUsersRelyOn() throws IOException {
    CustomResourceDefinition crd;
    try (InputStream in =
        Files.newInputStream(COMMITTED.resolve("managedsecrets.keywarden.io-v1.yml"))) {
      crd = new KubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
    }
    assertThat(crd.getSpec().getNames().getShortNames()).containsExactly("msec");
    var version = crd.getSpec().getVersions().get(0);
    assertThat(version.getSubresources().getStatus()).isNotNull();
    assertThat(version.getAdditionalPrinterColumns())
        .extracting(c -> c.getName())
        .contains("Current", "Last Rotated", "Ready", "Age");
    var spec = version.getSchema().getOpenAPIV3Schema().getProperties().get("spec");
    assertThat(spec.getXKubernetesValidations())
        .extracting(v -> v.getMessage())
        .contains("exactly one of spec.generate or spec.fromSecret must be set");
    assertThat(spec.getProperties().get("versionsToKeep").getMaximum()).isEqualTo(100.0);
    assertThat(
            version.getSchema().getOpenAPIV3Schema().getProperties().get("status").getProperties())
        .containsKeys("currentVersionId", "versions", "conditions", "observedGeneration")
        .doesNotContainKeys("value", "secretString");
  }

  private static List<Path> yamlFiles(Path dir) throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return list.filter(f -> f.toString().endsWith(".yml")).sorted().toList();
    }
  }
}
