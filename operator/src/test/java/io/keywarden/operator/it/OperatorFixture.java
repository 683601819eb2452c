package io.keywarden.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.testcluster.QuarkusProcess;
import io.keywarden.testcluster.TestCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/** The operator as a real process with its own namespace, and the waits tests share. */
public final class OperatorFixture implements AutoCloseable {

  public final TestCluster cluster;
  public final KubernetesClient client;
  public final String namespace;
  public QuarkusProcess operator;
  public final int apiPort;
  private final Map<String, String> env;

  public OperatorFixture(TestCluster cluster, Map<String, String> extraEnv) {
    this.cluster = cluster;
    this.client = cluster.admin();
    cluster.installCrds();
    this.namespace =
        "keywarden-it-" + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36);
    client
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
        .create();
    Map<String, String> env = new HashMap<>(extraEnv);
    env.put("POD_NAMESPACE", namespace);
    env.putIfAbsent("KEYWARDEN_API_PORT", Integer.toString(QuarkusProcess.freePort()));
    this.apiPort = Integer.parseInt(env.get("KEYWARDEN_API_PORT"));
    this.env = Map.copyOf(env);
    this.operator = QuarkusProcess.of(cluster, "operator", env);
  }

  /**
   * Replaces the operator process by a new one for the same namespace, with some environment
   * changed (null removes a variable); the old one must be stopped or killed first.
   */
  public OperatorFixture restartWith(Map<String, String> changes) {
    operator = QuarkusProcess.of(cluster, "operator", merged(changes));
    operator.start();
    return this;
  }

  /**
   * As {@link #restartWith}, but waits only for liveness: a replica whose KMS cannot answer (wrong
   * PIN, missing library) is live but, by design, never ready.
   */
  public OperatorFixture restartLiveWith(Map<String, String> changes) {
    operator = QuarkusProcess.of(cluster, "operator", merged(changes));
    operator.startLive();
    return this;
  }

  private Map<String, String> merged(Map<String, String> changes) {
    Map<String, String> next = new HashMap<>(env);
    changes.forEach(
        (k, v) -> {
          if (v == null) {
            next.remove(k);
          } else {
            next.put(k, v);
          }
        });
    return next;
  }

  /**
   * Another operator process for the same namespace (a second replica), with its own API port
   * (unless {@code changes} names one) and some environment changed (null removes a variable); not
   * started.
   */
  public QuarkusProcess replica(Map<String, String> changes) {
    Map<String, String> next = merged(changes);
    if (!changes.containsKey("KEYWARDEN_API_PORT")) {
      next.put("KEYWARDEN_API_PORT", Integer.toString(QuarkusProcess.freePort()));
    }
    return QuarkusProcess.of(cluster, "operator", next);
  }

  public OperatorFixture start() {
    operator.start();
    return this;
  }

  /** The CA that signs the API's serving certificate, as published for clients. */
  public String apiCa() {
    return client
        .configMaps()
        .inNamespace(namespace)
        .withName("keywarden-api-ca")
        .get()
        .getData()
        .get("ca.crt");
  }

  public ManagedSecret get(String ns, String name) {
    return client.resources(ManagedSecret.class).inNamespace(ns).withName(name).get();
  }

  public ManagedSecret apply(String ns, String yaml) {
    ManagedSecret secret = client.getKubernetesSerialization().unmarshal(yaml, ManagedSecret.class);
    return client.resources(ManagedSecret.class).inNamespace(ns).resource(secret).create();
  }

  public static Optional<Condition> condition(ManagedSecret secret, String type) {
    if (secret == null || secret.getStatus() == null) {
      return Optional.empty();
    }
    return secret.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst();
  }

  /** Waits until the condition has the status and reason, and returns it. */
  public Condition awaitCondition(
      String ns, String name, String type, String status, String reason) {
    return await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                condition(get(ns, name), type)
                    .filter(c -> status.equals(c.getStatus()) && reason.equals(c.getReason())),
            Optional::isPresent)
        .orElseThrow();
  }

  /**
   * Waits up to 10 s until the Events of {@code ns} satisfy {@code requirement}: the operator sends
   * Events asynchronously, a moment after what they report.
   */
  public void awaitEvents(String ns, Consumer<List<Event>> requirement) {
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> requirement.accept(client.v1().events().inNamespace(ns).list().getItems()));
  }

  /** Waits, like {@link #awaitEvents}, until one Event of {@code ns} meets {@code requirement}. */
  public void awaitEvent(String ns, Consumer<Event> requirement) {
    awaitEvents(ns, events -> assertThat(events).anySatisfy(requirement));
  }

  public ManagedSecret awaitReady(String ns, String name) {
    awaitCondition(ns, name, "Ready", "True", "VersionAvailable");
    return get(ns, name);
  }

  public void createSecret(String ns, String name, String key, byte[] value) {
    client
        .secrets()
        .inNamespace(ns)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .addToData(key, Base64.getEncoder().encodeToString(value))
                .build())
        .create();
  }

  /**
   * A ManagedSecret whose first value is imported from a new core Secret, so the test knows it;
   * {@code moreSpec} adds flow-style spec fields (e.g. {@code "kmsKeyId: hsm"}). Returns it once
   * Ready.
   */
  public ManagedSecret createImported(String ns, String name, String value, String moreSpec) {
    createSecret(ns, name + "-source", "v", value.getBytes(StandardCharsets.UTF_8));
    apply(
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: %s}
        spec: {fromSecret: {name: %s-source, key: v}%s}
        """
            .formatted(name, name, moreSpec.isEmpty() ? "" : ", " + moreSpec));
    return awaitReady(ns, name);
  }

  /**
   * A TokenRequest token of the ServiceAccount (created if missing), as a projected token would be.
   */
  public String serviceAccountToken(String ns, String serviceAccount, String audience) {
    if (client.serviceAccounts().inNamespace(ns).withName(serviceAccount).get() == null) {
      client
          .serviceAccounts()
          .inNamespace(ns)
          .resource(
              new ServiceAccountBuilder()
                  .withNewMetadata()
                  .withName(serviceAccount)
                  .endMetadata()
                  .build())
          .create();
    }
    return cluster.token(ns, serviceAccount, audience, 600);
  }

  /** The plaintext the operator copied into a syncToSecret target, once it is there. */
  public String awaitSynced(String ns, String secretName, String key) {
    Secret secret =
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> client.secrets().inNamespace(ns).withName(secretName).get(),
                s -> s != null && s.getData() != null && s.getData().containsKey(key));
    return new String(
        Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
  }

  public Secret ciphertext(ManagedSecret secret, String versionId) {
    return client
        .secrets()
        .inNamespace(namespace)
        .withName(CiphertextStore.objectName(secret.getMetadata().getUid(), versionId))
        .get();
  }

  /**
   * keywarden_cache_misses_total of one of the operator's caches ("token", "decision", "dek"), from
   * its /q/metrics: the reviews (or unwraps) it had to ask for.
   */
  public double cacheMisses(String cache) {
    OptionalDouble misses = metric("keywarden_cache_misses_total", "cache", cache);
    assertThat(misses).as("the " + cache + " cache's miss counter").isPresent();
    return misses.getAsDouble();
  }

  /**
   * The value of the first series of a metric in the operator's /q/metrics (Prometheus text) whose
   * {@code label} is {@code value}; empty when there is none.
   */
  public OptionalDouble metric(String name, String label, String value) {
    var matcher =
        java.util.regex.Pattern.compile(
                "(?m)^"
                    + java.util.regex.Pattern.quote(name)
                    + "\\{[^}]*"
                    + java.util.regex.Pattern.quote(label + "=\"" + value + "\"")
                    + "[^}]*\\} (\\S+)$")
            .matcher(operator.http("/q/metrics").body());
    return matcher.find()
        ? OptionalDouble.of(Double.parseDouble(matcher.group(1)))
        : OptionalDouble.empty();
  }

  /** {@link #close()}, then checks that the operator's log never held any of the values read. */
  public void closeCheckingLogNeverContains(Collection<String> values) {
    String log = operator.logText();
    close();
    assertThat(values).as("values read during the test").isNotEmpty();
    for (String value : values) {
      assertThat(log).as("operator log must never contain a value").doesNotContain(value);
    }
  }

  @Override
  public void close() {
    operator.stop();
    client.namespaces().withName(namespace).delete();
  }
}
