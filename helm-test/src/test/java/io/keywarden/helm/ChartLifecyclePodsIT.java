package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.testcluster.ClusterNode;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A release's life after {@code helm install}, against pods only: the operator container killed
 * with SIGKILL, {@code helm upgrade} to a new KMS key alias and then to it as the default key,
 * {@code helm rollback}, and {@code helm uninstall} followed by a new install. Every value is read
 * through the API as a tenant reads it (a bound token of the ServiceAccount {@code orders}, through
 * the operator's Service) and compared, version by version, with what was read before.
 */
@KubernetesIT(node = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartLifecyclePodsIT {

  private static final String RUN =
      Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
  private static final String SYSTEM = "kw-life-" + RUN;
  private static final String APPS = SYSTEM + "-apps";

  /** Follows the default key (spec.kmsKeyId empty). */
  private static final String FOLLOWS = "db-credentials";

  /** Names the key alias "default" in its spec. */
  private static final String PINNED = "pinned-default";

  private static Tools tools;
  private static Release release;
  private static TenantReads reads;

  /** Every value read so far, by version id: no later step may change or lose one. */
  private static final Map<String, String> SEEN = new HashMap<>();

  @BeforeAll
  static void install(TestCluster cluster) throws Exception {
    ChartImages.importInto(cluster.node());
    tools = new Tools(cluster);
    KubernetesClient admin = cluster.admin();
    Release.createNamespaces(admin, SYSTEM, APPS);
    release = Release.install(tools, SYSTEM);
    ChartPodsIT.awaitKeywardenReady(admin, SYSTEM);
    tools
        .kubectl(
            "apply",
            "-n",
            APPS,
            "-f",
            Tools.ROOT.resolve("examples/managedsecret-generated.yaml").toString())
        .orFail();
    tools
        .kubectlWithInput(
            """
            apiVersion: keywarden.io/v1alpha1
            kind: ManagedSecret
            metadata:
              name: %s
            spec:
              kmsKeyId: default
              generate: {passwordLength: 24}
              access:
                - name: orders
                  actions: [get]
            """
                .formatted(PINNED),
            "apply",
            "-n",
            APPS,
            "-f",
            "-")
        .orFail();
    reads = new TenantReads(cluster, SYSTEM, APPS, "orders");
    for (String secret : List.of(FOLLOWS, PINNED)) {
      awaitReady(admin, secret);
      rotate(admin, secret, "first-" + RUN);
      remember(readAll(secret));
    }
    assertThat(SEEN).hasSize(4);
  }

  @AfterAll
  static void uninstall(TestCluster cluster) {
    KubernetesClient admin = cluster.admin();
    try {
      if (tools != null) {
        // ManagedSecrets go while the operator runs (their finalizers need it); without one (a
        // failure between uninstall and install), the escape hatch docs/operations.md gives.
        if (release == null
            || !tools
                .kubectl("delete", "-n", APPS, "managedsecrets", "--all", "--timeout=120s")
                .ok()) {
          for (ManagedSecret left :
              admin.resources(ManagedSecret.class).inNamespace(APPS).list().getItems()) {
            tools.kubectl(
                "patch",
                "-n",
                APPS,
                "managedsecret",
                left.getMetadata().getName(),
                "--type=merge",
                "-p",
                "{\"metadata\":{\"finalizers\":null}}");
          }
        }
      }
      if (release != null) {
        release.close();
      }
    } finally {
      admin.namespaces().withName(APPS).delete();
      admin.namespaces().withName(SYSTEM).delete();
      ChartImages.removeFrom(cluster.node());
    }
  }

  /**
   * SIGKILL to the leader's operator container through the node's containerd (what the kernel's OOM
   * killer or a crash does): kubelet restarts it in the same pod (restart count 1, exit 137), it
   * passes its probes again, and that replica (addressed by its pod IP) serves every value
   * unchanged.
   */
  @Test
  @Order(1)
  void operatorContainerKilledWithSigkillComesBackAndServesTheSameValues(
      TestCluster cluster, ClusterNode node) {
    KubernetesClient admin = cluster.admin();
    List<Pod> pods = ChartPodsIT.awaitKeywardenReady(admin, SYSTEM);
    String leader = ChartPodsIT.assertLeaderIsAnOperatorPod(admin, SYSTEM, pods);
    Pod victim =
        pods.stream()
            .filter(p -> leader.startsWith(p.getMetadata().getName()))
            .findFirst()
            .orElseThrow();
    String name = victim.getMetadata().getName();
    ChartPodsIT.assertNoRestarts(admin, List.of(victim));
    String containerId = victim.getStatus().getContainerStatuses().get(0).getContainerID();

    java.time.Instant killed = java.time.Instant.now();
    node.killContainer(containerId);

    Pod back =
        await()
            .atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofMillis(500))
            .until(
                () -> admin.pods().inNamespace(SYSTEM).withName(name).get(),
                p -> ChartPodsIT.ready(p) && ChartPodsIT.restarts(p) == 1);
    System.out.printf(
        "operator container killed (SIGKILL) -> restarted and Ready: %d ms%n",
        Duration.between(killed, java.time.Instant.now()).toMillis());
    ContainerStatus operator = back.getStatus().getContainerStatuses().get(0);
    assertThat(operator.getLastState().getTerminated().getExitCode())
        .as("killed by SIGKILL")
        .isEqualTo(137);
    assertThat(back.getMetadata().getUid())
        .as("the same pod")
        .isEqualTo(victim.getMetadata().getUid());
    for (String secret : List.of(FOLLOWS, PINNED)) {
      assertThat(reads.allVersions(secret, back.getStatus().getPodIP()))
          .as("%s from the restarted replica %s", secret, name)
          .isEqualTo(versionsSeen(admin, secret));
    }
    assertThat(ChartPodsIT.awaitKeywardenReady(admin, SYSTEM)).hasSize(4);
  }

  /**
   * The documented way to a new key: an upgrade that adds the alias, then one that makes it the
   * default. Versions of a secret that follows the default are re-wrapped under the new key (values
   * unchanged) and new versions use it; a secret that names its key keeps it. The rollback of the
   * second upgrade makes "default" the default again: versions move back, every value still reads
   * the same.
   */
  @Test
  @Order(2)
  void upgradeToANewKeyAliasAndRollbackKeepEveryValueReadable(TestCluster cluster) {
    KubernetesClient admin = cluster.admin();

    java.time.Instant upgraded = java.time.Instant.now();
    release.upgrade("--reuse-values", "--set", "kms.keys.second.provider=local").orFail();
    awaitRolledOut(admin);
    System.out.printf(
        "helm upgrade (new key alias) -> operator pods rolled and Ready: %d ms%n",
        Duration.between(upgraded, java.time.Instant.now()).toMillis());
    assertEverySeenValueReadable(admin);

    release.upgrade("--reuse-values", "--set", "kms.defaultKeyId=second").orFail();
    awaitRolledOut(admin);
    awaitKeysOfVersions(admin, FOLLOWS, "second");
    assertThat(masterKeys(admin)).anyMatch(k -> k.startsWith("second.v"));
    assertEverySeenValueReadable(admin);
    String newVersion = rotate(admin, FOLLOWS, "after-upgrade-" + RUN);
    assertThat(keyOf(admin, FOLLOWS, newVersion))
        .as("a new version uses the new key")
        .isEqualTo("second");
    String pinnedVersion = rotate(admin, PINNED, "after-upgrade-" + RUN);
    assertThat(keyOf(admin, PINNED, pinnedVersion)).isEqualTo("default");
    assertThat(keysOf(admin, PINNED)).containsOnly("default");
    remember(readAll(FOLLOWS));
    remember(readAll(PINNED));

    assertThat(tools.helm("history", Release.NAME, "--namespace", SYSTEM, "--max", "1").orFail())
        .contains("deployed");
    tools.helm("rollback", Release.NAME, "2", "--namespace", SYSTEM, "--wait").orFail();
    awaitRolledOut(admin);
    assertThat(configuration(admin)).contains("keywarden.kms.default-key-id=default");
    awaitKeysOfVersions(admin, FOLLOWS, "default");
    assertEverySeenValueReadable(admin);
    String afterRollback = rotate(admin, FOLLOWS, "after-rollback-" + RUN);
    assertThat(keyOf(admin, FOLLOWS, afterRollback)).isEqualTo("default");
    remember(readAll(FOLLOWS));
  }

  /**
   * {@code helm uninstall} removes what the chart rendered and leaves what docs/operations.md says
   * it leaves: the CRDs, the ManagedSecrets, the ciphertext Secrets and the master keys. A new
   * {@code helm install} into the same namespace serves every value again.
   */
  @Test
  @Order(3)
  void uninstallLeavesCrdsAndCiphertextAndANewInstallServesTheSameValues(TestCluster cluster) {
    KubernetesClient admin = cluster.admin();
    Map<String, String> ciphertextBefore = ciphertext(admin);
    assertThat(ciphertextBefore).hasSizeGreaterThanOrEqualTo(SEEN.size());
    List<String> masterKeysBefore = masterKeys(admin);

    release.close();
    release = null;
    await()
        .atMost(Duration.ofMinutes(2))
        .until(() -> admin.pods().inNamespace(SYSTEM).list().getItems().isEmpty());
    assertThat(admin.apps().deployments().inNamespace(SYSTEM).list().getItems()).isEmpty();
    assertThat(admin.configMaps().inNamespace(SYSTEM).withName("keywarden-operator-config").get())
        .isNull();
    assertThat(
            admin
                .admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .withName("keywarden-injector")
                .get())
        .isNull();
    for (String crd : List.of("managedsecrets.keywarden.io", "rotationschedules.keywarden.io")) {
      assertThat(admin.apiextensions().v1().customResourceDefinitions().withName(crd).get())
          .as(crd)
          .isNotNull();
    }
    assertThat(admin.resources(ManagedSecret.class).inNamespace(APPS).list().getItems())
        .extracting(m -> m.getMetadata().getName())
        .containsExactlyInAnyOrder(FOLLOWS, PINNED);
    assertThat(ciphertext(admin))
        .as("the ciphertext Secrets, unchanged")
        .isEqualTo(ciphertextBefore);
    assertThat(masterKeys(admin)).containsExactlyInAnyOrderElementsOf(masterKeysBefore);

    java.time.Instant reinstalled = java.time.Instant.now();
    release = Release.install(tools, SYSTEM);
    ChartPodsIT.awaitKeywardenReady(admin, SYSTEM);
    System.out.printf(
        "helm install after uninstall -> 4 pods Ready: %d ms%n",
        Duration.between(reinstalled, java.time.Instant.now()).toMillis());
    assertEverySeenValueReadable(admin);
    rotate(admin, FOLLOWS, "after-reinstall-" + RUN);
    remember(readAll(FOLLOWS));
  }

  private static void awaitReady(KubernetesClient admin, String secret) {
    admin
        .resources(ManagedSecret.class)
        .inNamespace(APPS)
        .withName(secret)
        .waitUntilCondition(
            m ->
                m != null
                    && m.getStatus() != null
                    && m.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus())),
            2,
            java.util.concurrent.TimeUnit.MINUTES);
  }

  /** Asks for a rotation and waits for the new CURRENT; returns its version id. */
  private static String rotate(KubernetesClient admin, String secret, String request) {
    String before = managed(admin, secret).getStatus().getCurrentVersionId();
    tools
        .kubectl(
            "annotate",
            "-n",
            APPS,
            "managedsecret",
            secret,
            "keywarden.io/rotate-now=" + request,
            "--overwrite")
        .orFail();
    return await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              ManagedSecret m = managed(admin, secret);
              return m.getStatus().getRotation() == null
                  ? m.getStatus().getCurrentVersionId()
                  : before;
            },
            current -> !current.equals(before));
  }

  /** Waits until both Deployments run only pods of their newest template, all Ready. */
  private static void awaitRolledOut(KubernetesClient admin) {
    for (String deployment : List.of("keywarden-operator", "keywarden-injector")) {
      tools
          .kubectl("rollout", "status", "-n", SYSTEM, "deployment/" + deployment, "--timeout=300s")
          .orFail();
    }
    ChartPodsIT.awaitKeywardenReady(admin, SYSTEM);
  }

  private static void awaitKeysOfVersions(KubernetesClient admin, String secret, String key) {
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> keysOf(admin, secret), keys -> keys.equals(java.util.Set.of(key)));
  }

  private static java.util.Set<String> keysOf(KubernetesClient admin, String secret) {
    return managed(admin, secret).getStatus().getVersions().stream()
        .map(SecretVersion::getKmsKeyId)
        .collect(java.util.stream.Collectors.toSet());
  }

  private static String keyOf(KubernetesClient admin, String secret, String versionId) {
    return managed(admin, secret).getStatus().getVersions().stream()
        .filter(v -> v.getVersionId().equals(versionId))
        .map(SecretVersion::getKmsKeyId)
        .findFirst()
        .orElseThrow();
  }

  private static ManagedSecret managed(KubernetesClient admin, String secret) {
    return admin.resources(ManagedSecret.class).inNamespace(APPS).withName(secret).get();
  }

  private static Map<String, String> readAll(String secret) {
    return reads.allVersions(secret);
  }

  private static void remember(Map<String, String> values) {
    values.forEach(
        (id, value) -> {
          String earlier = SEEN.putIfAbsent(id, value);
          assertThat(earlier == null || earlier.equals(value))
              .as("version %s reads as it did before", id)
              .isTrue();
        });
  }

  /** The values read so far of the versions the secret still keeps. */
  private static Map<String, String> versionsSeen(KubernetesClient admin, String secret) {
    Map<String, String> expected = new java.util.TreeMap<>();
    for (SecretVersion version : managed(admin, secret).getStatus().getVersions()) {
      assertThat(SEEN).containsKey(version.getVersionId());
      expected.put(version.getVersionId(), SEEN.get(version.getVersionId()));
    }
    return expected;
  }

  /** Both secrets' kept versions read the same as when first read, and CURRENT is readable. */
  private static void assertEverySeenValueReadable(KubernetesClient admin) {
    for (String secret : List.of(FOLLOWS, PINNED)) {
      assertThat(readAll(secret)).as(secret).isEqualTo(versionsSeen(admin, secret));
      assertThat(reads.current(secret)).isNotEmpty();
    }
  }

  /** The ciphertext Secrets of the release namespace: name to resourceVersion. */
  private static Map<String, String> ciphertext(KubernetesClient admin) {
    Map<String, String> secrets = new java.util.TreeMap<>();
    for (Secret secret :
        admin
            .secrets()
            .inNamespace(SYSTEM)
            .withLabel("keywarden.io/secret-uid")
            .list()
            .getItems()) {
      secrets.put(secret.getMetadata().getName(), secret.getMetadata().getResourceVersion());
    }
    return secrets;
  }

  /** The entries (alias.vN) of the local provider's master key Secret, never their values. */
  private static List<String> masterKeys(KubernetesClient admin) {
    Secret keys = admin.secrets().inNamespace(SYSTEM).withName("keywarden-master-keys").get();
    assertThat(keys).as("the local provider's master keys").isNotNull();
    return List.copyOf(keys.getData().keySet());
  }

  private static String configuration(KubernetesClient admin) {
    return admin
        .configMaps()
        .inNamespace(SYSTEM)
        .withName("keywarden-operator-config")
        .get()
        .getData()
        .get("keywarden.properties");
  }
}
