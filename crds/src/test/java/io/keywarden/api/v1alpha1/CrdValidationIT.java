package io.keywarden.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The committed CRDs, applied to a real apiserver, accept good resources and name the field of bad
 * ones.
 */
@KubernetesIT
class CrdValidationIT {

  @BeforeAll
  static void installCrds(TestCluster cluster) {
    cluster.installCrds();
  }

  @Test
  void validManagedSecretIsStoredWithDefaults(KubernetesClient client, TestNamespace ns) {
    ManagedSecret created =
        client
            .resources(ManagedSecret.class)
            .inNamespace(ns.name())
            .resource(
                managedSecret(
                    client,
                    "db-password",
                    """
            {"generate": {"passwordLength": 24}, "access": [{"name": "app"}]}"""))
            .create();

    assertThat(created.getSpec().getVersionsToKeep()).isEqualTo(5);
    assertThat(created.getSpec().getGenerate().getRequireEachIncludedType()).isTrue();
    assertThat(created.getSpec().getAccess().get(0).getActions())
        .containsExactly(AccessRule.Action.get);
    assertThat(created.getSpec().getAccess().get(0).getKind())
        .isEqualTo(AccessRule.SubjectKind.ServiceAccount);
  }

  @Test
  void bothValueSourcesAreRefused(KubernetesClient client, TestNamespace ns) {
    assertRefused(
        client,
        ns,
        """
        {"generate": {}, "fromSecret": {"name": "src", "key": "password"}}""",
        "exactly one of spec.generate or spec.fromSecret must be set");
  }

  @Test
  void outOfRangeLengthIsRefusedNamingTheField(KubernetesClient client, TestNamespace ns) {
    assertRefused(
        client,
        ns,
        """
        {"generate": {"passwordLength": 0}}""",
        "spec.generate.passwordLength");
  }

  @Test
  void generatorThatExcludesEverythingIsRefused(KubernetesClient client, TestNamespace ns) {
    assertRefused(
        client,
        ns,
        """
        {"generate": {"excludeNumbers": true, "excludePunctuation": true, "excludeUppercase": true, "excludeLowercase": true}}""",
        "spec.generate excludes every character type");
  }

  @Test
  void unknownAccessActionIsRefusedNamingTheField(KubernetesClient client, TestNamespace ns) {
    assertRefused(
        client,
        ns,
        """
        {"generate": {}, "access": [{"name": "app", "actions": ["delete"]}]}""",
        "spec.access[0].actions[0]");
  }

  /** issue 18: 0, or 7 to 30 days as AWS's RecoveryWindowInDays; the message names the field. */
  @org.junit.jupiter.params.ParameterizedTest(name = "recoveryWindowDays {0} is refused")
  @org.junit.jupiter.params.provider.ValueSource(ints = {-1, 1, 6, 31, 365})
  void recoveryWindowOutsideAwsRangeIsRefusedNamingTheField(
      int days, KubernetesClient client, TestNamespace ns) {
    assertRefused(
        client,
        ns,
        """
        {"generate": {}, "deletion": {"recoveryWindowDays": %d}}"""
            .formatted(days),
        "spec.deletion.recoveryWindowDays must be 0 (delete at once) or 7 to 30 days");
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "recoveryWindowDays {0} is stored")
  @org.junit.jupiter.params.provider.ValueSource(ints = {0, 7, 30})
  void recoveryWindowInAwsRangeIsStored(int days, KubernetesClient client, TestNamespace ns) {
    ManagedSecret created =
        client
            .resources(ManagedSecret.class)
            .inNamespace(ns.name())
            .resource(
                managedSecret(
                    client,
                    "window-" + days,
                    """
            {"generate": {}, "deletion": {"recoveryWindowDays": %d}}"""
                        .formatted(days)))
            .create();
    assertThat(created.getSpec().getDeletion().getRecoveryWindowDays()).isEqualTo(days);
  }

  @Test
  void emptyDeletionDefaultsToSevenDays(KubernetesClient client, TestNamespace ns) {
    ManagedSecret created =
        client
            .resources(ManagedSecret.class)
            .inNamespace(ns.name())
            .resource(
                managedSecret(client, "window-default", "{\"generate\": {}, \"deletion\": {}}"))
            .create();
    assertThat(created.getSpec().getDeletion().getRecoveryWindowDays()).isEqualTo(7);
    assertThat(created.getSpec().recoveryWindowDays()).isEqualTo(7);
  }

  @Test
  void rotationScheduleWithoutStrategyIsRefused(KubernetesClient client, TestNamespace ns) {
    RotationSchedule schedule =
        client
            .getKubernetesSerialization()
            .unmarshal(
                """
        {"apiVersion": "keywarden.io/v1alpha1", "kind": "RotationSchedule", "metadata": {"name": "nightly"},
         "spec": {"secretRef": {"name": "db-password"}, "schedule": "rate(1 day)"}}""",
                RotationSchedule.class);

    assertThatThrownBy(
            () ->
                client
                    .resources(RotationSchedule.class)
                    .inNamespace(ns.name())
                    .resource(schedule)
                    .create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.strategy");
  }

  /**
   * Sends the JSON as written, so that values the Java model could not even hold reach the
   * apiserver.
   */
  private static void assertRefused(
      KubernetesClient client, TestNamespace ns, String spec, String expected) {
    GenericKubernetesResource resource =
        client
            .getKubernetesSerialization()
            .unmarshal(json("bad", spec), GenericKubernetesResource.class);
    assertThatThrownBy(
            () ->
                client
                    .genericKubernetesResources(KeywardenApi.API_VERSION, "ManagedSecret")
                    .inNamespace(ns.name())
                    .resource(resource)
                    .create())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining(expected);
  }

  private static ManagedSecret managedSecret(
      KubernetesClient client, String name, String specJson) {
    return client.getKubernetesSerialization().unmarshal(json(name, specJson), ManagedSecret.class);
  }

  private static String json(String name, String specJson) {
    return """
        {"apiVersion": "keywarden.io/v1alpha1", "kind": "ManagedSecret", "metadata": {"name": "%s"}, "spec": %s}"""
        .formatted(name, specJson);
  }
}
