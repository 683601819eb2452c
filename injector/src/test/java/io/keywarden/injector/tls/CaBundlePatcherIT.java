package io.keywarden.injector.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.tls.CertificateIssuer;
import io.keywarden.tls.Pem;
import io.keywarden.tls.RenewalSettings;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The injector's replicas patch the shipped MutatingWebhookConfiguration at the same moment when
 * they start together (a rollout, helm install with two replicas). Found by the chart's pod tests:
 * the replica that lost the race exited on the apiserver's 409 and restarted.
 */
@KubernetesIT
class CaBundlePatcherIT {

  private static final int REPLICAS = 4;

  private KubernetesClient admin;
  private String name;

  @BeforeEach
  void register(TestCluster cluster) throws Exception {
    admin = cluster.admin();
    name =
        "keywarden-cabundle-it-"
            + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
    MutatingWebhookConfiguration registration;
    try (InputStream in = getClass().getResourceAsStream("/kubernetes/mutating-webhook.yaml")) {
      registration =
          admin.getKubernetesSerialization().unmarshal(in, MutatingWebhookConfiguration.class);
    }
    registration.getMetadata().setName(name);
    for (MutatingWebhook webhook : registration.getWebhooks()) {
      // Reaches no namespace and no server: only its caBundle matters here.
      webhook.getClientConfig().setService(null);
      webhook.getClientConfig().setUrl("https://127.0.0.1:9/never");
      webhook.getNamespaceSelector().setMatchLabels(Map.of("keywarden.io/cabundle-it", name));
    }
    admin
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(registration)
        .create();
  }

  @AfterEach
  void unregister() {
    admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName(name).delete();
  }

  @Test
  void replicasPatchingAtOnceAllSucceedWithTheSameBundle() throws Exception {
    ExecutorService replicas = Executors.newFixedThreadPool(REPLICAS);
    try {
      for (int round = 0; round < 5; round++) {
        String ca = newCaPem();
        CyclicBarrier start = new CyclicBarrier(REPLICAS);
        List<Future<Boolean>> patched = new ArrayList<>();
        for (int r = 0; r < REPLICAS; r++) {
          CaBundlePatcher patcher = new CaBundlePatcher(admin, name);
          patched.add(
              replicas.submit(
                  () -> {
                    start.await(10, TimeUnit.SECONDS);
                    return patcher.patch(ca);
                  }));
        }
        for (Future<Boolean> each : patched) {
          // A 409 that escaped would surface here as an ExecutionException.
          assertThat(each.get(30, TimeUnit.SECONDS)).isTrue();
        }
        String expected = Base64.getEncoder().encodeToString(ca.getBytes(StandardCharsets.UTF_8));
        assertThat(
                admin
                    .admissionRegistration()
                    .v1()
                    .mutatingWebhookConfigurations()
                    .withName(name)
                    .get()
                    .getWebhooks())
            .isNotEmpty()
            .allSatisfy(
                webhook -> assertThat(webhook.getClientConfig().getCaBundle()).isEqualTo(expected));
      }
    } finally {
      replicas.shutdownNow();
    }
  }

  private static String newCaPem() {
    return Pem.certificate(
        new CertificateIssuer("test", RenewalSettings.DEFAULTS).newCa(Instant.now()).certificate());
  }
}
