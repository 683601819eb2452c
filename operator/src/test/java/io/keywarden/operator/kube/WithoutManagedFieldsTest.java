package io.keywarden.operator.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WithoutManagedFieldsTest {

  @Test
  void keepsObjectsByNamespaceAndNameWithoutManagedFields() {
    WithoutManagedFields<Secret> store = new WithoutManagedFields<>();
    Secret secret =
        new SecretBuilder()
            .withNewMetadata()
            .withNamespace("ns")
            .withName("record")
            .withResourceVersion("42")
            .withUid("uid-1")
            .addToLabels("keywarden.io/secret-uid", "owner")
            .addToAnnotations("keywarden.io/version-id", "v1")
            .addToManagedFields(
                new ManagedFieldsEntryBuilder()
                    .withManager("keywarden-operator")
                    .withOperation("Update")
                    .withNewFieldsV1()
                    .addToAdditionalProperties("f:data", Map.of("f:envelope", Map.of()))
                    .endFieldsV1()
                    .build())
            .endMetadata()
            .addToData("envelope", "ZW52ZWxvcGU=")
            .build();

    store.put(store.getKey(secret), secret);

    Secret cached = store.get("ns/record");
    assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(cached.getMetadata().getResourceVersion()).isEqualTo("42");
    assertThat(cached.getMetadata().getUid()).isEqualTo("uid-1");
    assertThat(cached.getMetadata().getLabels()).containsEntry("keywarden.io/secret-uid", "owner");
    assertThat(cached.getMetadata().getAnnotations())
        .containsEntry("keywarden.io/version-id", "v1");
    assertThat(cached.getData()).containsEntry("envelope", "ZW52ZWxvcGU=");
    assertThat(store.size()).isEqualTo(1);
    assertThat(store.remove("ns/record")).isSameAs(cached);
    assertThat(store.size()).isZero();
  }
}
