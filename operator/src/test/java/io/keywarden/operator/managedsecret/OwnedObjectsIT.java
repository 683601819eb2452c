package io.keywarden.operator.managedsecret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The objects a ManagedSecret owns (Role and RoleBinding per action, the synced Secret) are JOSDK
 * dependents: a hand-deleted one comes back on the informer event. Objects of the same names that a
 * user made are never taken over, changed or collected; the clash is reported.
 */
@KubernetesIT
class OwnedObjectsIT {

  private static OperatorFixture fixture;

  @BeforeAll
  static void startOperator(TestCluster cluster) {
    fixture = new OperatorFixture(cluster, Map.of()).start();
  }

  @AfterAll
  static void stopOperator() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private static final String APP =
      """
      apiVersion: keywarden.io/v1alpha1
      kind: ManagedSecret
      metadata: {name: app}
      spec:
        generate: {}
        access: [{name: app, actions: [get]}]
        syncToSecret: {name: app-plain}
      """;

  @Test
  void aHandDeletedRoleOrBindingOrCopyComesBackOnTheInformerEvent(TestNamespace ns) {
    fixture.apply(ns.name(), APP);
    fixture.awaitReady(ns.name(), "app");
    await().atMost(Duration.ofSeconds(30)).until(() -> role(ns, "keywarden-app-get") != null);
    fixture.awaitSynced(ns.name(), "app-plain", "value");

    fixture.client.rbac().roles().inNamespace(ns.name()).withName("keywarden-app-get").delete();
    fixture
        .client
        .rbac()
        .roleBindings()
        .inNamespace(ns.name())
        .withName("keywarden-app-get")
        .delete();
    fixture.client.secrets().inNamespace(ns.name()).withName("app-plain").delete();

    // The periodic re-apply (10 minutes) is gone: only the informer event can bring them back.
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                role(ns, "keywarden-app-get") != null
                    && binding(ns, "keywarden-app-get") != null
                    && fixture.client.secrets().inNamespace(ns.name()).withName("app-plain").get()
                        != null);
    assertThat(role(ns, "keywarden-app-get").getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(r -> assertThat(r.getKind()).isEqualTo("ManagedSecret"));
  }

  @Test
  void aUsersRoleAndRoleBindingOfTheSameNameAreLeftUntouchedAndReported(TestNamespace ns) {
    Role usersRole =
        fixture
            .client
            .resource(
                new RoleBuilder()
                    .withNewMetadata()
                    .withName("keywarden-app-get")
                    .withNamespace(ns.name())
                    .endMetadata()
                    .addNewRule()
                    .withApiGroups("")
                    .withResources("configmaps")
                    .withVerbs("list")
                    .endRule()
                    .build())
            .create();
    RoleBinding usersBinding =
        fixture
            .client
            .resource(
                new RoleBindingBuilder()
                    .withNewMetadata()
                    .withName("keywarden-app-get")
                    .withNamespace(ns.name())
                    .endMetadata()
                    .withNewRoleRef()
                    .withApiGroup("rbac.authorization.k8s.io")
                    .withKind("Role")
                    .withName("keywarden-app-get")
                    .endRoleRef()
                    .addNewSubject()
                    .withKind("ServiceAccount")
                    .withName("someone-else")
                    .withNamespace(ns.name())
                    .endSubject()
                    .build())
            .create();

    fixture.apply(ns.name(), APP);

    var degraded =
        fixture.awaitCondition(
            ns.name(), "app", "Degraded", "True", ManagedSecretConditions.ACCESS_POLICY_CONFLICT);
    assertThat(degraded.getMessage()).contains("keywarden-app-get").contains("untouched");
    fixture.awaitEvent(
        ns.name(),
        e -> {
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getReason()).isEqualTo(ManagedSecretConditions.ACCESS_POLICY_CONFLICT);
          assertThat(e.getMessage()).contains(ns.name() + "/keywarden-app-get");
        });
    assertUnchanged(ns, usersRole, usersBinding);
    // The secret itself still works: a clash over an owned object does not block its value.
    fixture.awaitSynced(ns.name(), "app-plain", "value");

    fixture.client.resources(ManagedSecret.class).inNamespace(ns.name()).withName("app").delete();
    await().atMost(Duration.ofSeconds(30)).until(() -> fixture.get(ns.name(), "app") == null);
    // Garbage collection had nothing to collect: no owner reference was ever added.
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertUnchanged(ns, usersRole, usersBinding));
  }

  @Test
  void aUsersSecretOfTheSyncNameIsLeftUntouchedAndReported(TestNamespace ns) {
    Secret users =
        fixture
            .client
            .resource(
                new SecretBuilder()
                    .withNewMetadata()
                    .withName("app-plain")
                    .withNamespace(ns.name())
                    .endMetadata()
                    .addToData("mine", Base64.getEncoder().encodeToString("users-own".getBytes()))
                    .build())
            .create();

    fixture.apply(ns.name(), APP);

    var degraded =
        fixture.awaitCondition(
            ns.name(), "app", "Degraded", "True", ManagedSecretConditions.SYNC_TARGET_CONFLICT);
    assertThat(degraded.getMessage()).contains("Secret " + ns.name() + "/app-plain");
    assertThat(fixture.get(ns.name(), "app").getStatus().getCurrentVersionId()).isNotNull();
    fixture.awaitEvent(
        ns.name(),
        e -> {
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getMessage()).contains(ns.name() + "/app-plain");
        });

    fixture.client.resources(ManagedSecret.class).inNamespace(ns.name()).withName("app").delete();
    await().atMost(Duration.ofSeconds(30)).until(() -> fixture.get(ns.name(), "app") == null);
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              Secret now =
                  fixture.client.secrets().inNamespace(ns.name()).withName("app-plain").get();
              assertThat(now).isNotNull();
              assertThat(now.getData()).isEqualTo(users.getData());
              assertThat(now.getMetadata().getOwnerReferences()).isEmpty();
              assertThat(now.getMetadata().getLabels()).isNullOrEmpty();
            });
  }

  @Test
  void deletingANamespaceOfSyncedSecretsLogsNoStackAndRecreatesNothing() {
    String name = "kw-ns-" + UUID.randomUUID().toString().substring(0, 8);
    fixture
        .client
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    for (int i = 0; i < 3; i++) {
      fixture.apply(
          name,
          """
          apiVersion: keywarden.io/v1alpha1
          kind: ManagedSecret
          metadata: {name: s%d}
          spec:
            generate: {}
            access: [{name: app, actions: [get]}]
            syncToSecret: {name: s%d-plain}
          """
              .formatted(i, i));
    }
    for (int i = 0; i < 3; i++) {
      fixture.awaitReady(name, "s" + i);
      fixture.awaitSynced(name, "s" + i + "-plain", "value");
    }
    int logBefore = fixture.operator.logText().length();

    fixture.client.namespaces().withName(name).delete();
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> fixture.client.namespaces().withName(name).get() == null);

    String log = fixture.operator.logText().substring(logBefore);
    List<String> lines = log.lines().filter(l -> l.contains(name)).toList();
    assertThat(log.lines().filter(l -> l.startsWith("\tat ") || l.startsWith("    at ")))
        .as("stack trace lines in the operator log during the namespace deletion")
        .isEmpty();
    assertThat(lines).noneMatch(l -> l.contains("WARN") && !l.contains("deleted"));
  }

  private static void assertUnchanged(TestNamespace ns, Role usersRole, RoleBinding usersBinding) {
    Role role = role(ns, "keywarden-app-get");
    RoleBinding binding = binding(ns, "keywarden-app-get");
    assertThat(role).isNotNull();
    assertThat(role.getRules()).isEqualTo(usersRole.getRules());
    assertThat(role.getMetadata().getOwnerReferences()).isEmpty();
    assertThat(role.getMetadata().getLabels()).isNullOrEmpty();
    assertThat(binding).isNotNull();
    assertThat(binding.getSubjects()).isEqualTo(usersBinding.getSubjects());
    assertThat(binding.getMetadata().getOwnerReferences()).isEmpty();
  }

  private static Role role(TestNamespace ns, String name) {
    return fixture.client.rbac().roles().inNamespace(ns.name()).withName(name).get();
  }

  private static RoleBinding binding(TestNamespace ns, String name) {
    return fixture.client.rbac().roleBindings().inNamespace(ns.name()).withName(name).get();
  }
}
