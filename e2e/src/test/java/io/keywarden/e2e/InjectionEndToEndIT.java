package io.keywarden.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.e2e.SecretFiles.Snapshot;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Injection from end to end on the real control plane: the operator and the injector run as
 * processes from their build output, the injector is registered with the apiserver (by URL, as in
 * the injector's own integration test), a pod that asks for secrets is created through the
 * apiserver, and its stored agent container is run as a local process exactly as the stored spec
 * says ({@link InjectedAgent} lists the few node-side translations). No part is mocked: the agent
 * authenticates with a real bound token, the operator checks it with TokenReview and
 * SubjectAccessReview, and the CA the agent trusts is the one the operator published and the
 * injector copied into the pod.
 */
@KubernetesIT
class InjectionEndToEndIT {

  private static final String RUN =
      Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
  private static final Duration UPDATE_GOAL = Duration.ofSeconds(2);
  private static final Pattern ENV_PASSWORD = Pattern.compile("(?m)^PASSWORD='([^']*)'$");
  private static final List<String> FILES = List.of("username", "password", "db.env", "api-key");

  private KubernetesClient admin;
  private HostKeywarden keywarden;
  private InjectedAgent agent;
  private SecretFiles files;

  @AfterEach
  void stopEverything() throws Exception {
    if (files != null) {
      files.close();
    }
    if (agent != null) {
      agent.close();
    }
    if (keywarden != null) {
      keywarden.close();
    }
  }

  @Test
  void anAnnotatedPodsAgentKeepsItsFilesFreshThroughPutsRotationsOutagesAndTokenChanges(
      TestCluster cluster, TestNamespace namespace) throws Exception {
    admin = cluster.admin();
    String ns = namespace.name();
    keywarden = new HostKeywarden(cluster, ns, "127.0.0.1");
    String apiCa = keywarden.awaitPublishedApiCa();
    keywarden.startInjector(ns);

    // The tenant: two ServiceAccounts, a JSON secret (username fixed, password generated) and a
    // plain one.
    keywarden.dbTenant(ns);
    keywarden.managedSecret(
        ns,
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: api-key}
        spec:
          generate: {passwordLength: 32, excludePunctuation: true}
          access:
            - {name: app, actions: [get]}
        """);
    ValueApi api = new ValueApi(keywarden.hostApiUrl(), apiCa);
    String writer = cluster.token(ns, "writer", "keywarden.io", 600);

    // The pod as a user writes it; the apiserver stores it mutated by the injector.
    Pod stored =
        admin
            .pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("web")
                    .addToLabels("keywarden.io/inject", "true")
                    .withAnnotations(
                        Map.of(
                            "keywarden.io/secret.username",
                            "db",
                            "keywarden.io/key.username",
                            "username",
                            "keywarden.io/secret.password",
                            "db",
                            "keywarden.io/key.password",
                            "password",
                            "keywarden.io/secret.db.env",
                            "db",
                            "keywarden.io/format.db.env",
                            "env",
                            "keywarden.io/secret.api-key",
                            "api-key",
                            "keywarden.io/file-mode",
                            "0440"))
                    .endMetadata()
                    .withNewSpec()
                    // A group-readable mode needs a group the app has (docs/injection.md).
                    .withNewSecurityContext()
                    .withFsGroup(2000L)
                    .endSecurityContext()
                    .withServiceAccountName("app")
                    .addNewContainer()
                    .withName("app")
                    .withImage("example/app:1")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    Container injected = stored.getSpec().getInitContainers().get(0);
    assertThat(injected.getName()).isEqualTo("keywarden-agent");
    assertThat(env(injected, "KEYWARDEN_API_CA"))
        .as("the CA the operator published")
        .isEqualTo(apiCa.strip() + "\n");
    String appMountPath =
        stored.getSpec().getContainers().get(0).getVolumeMounts().stream()
            .filter(m -> m.getName().equals("keywarden-secrets"))
            .findFirst()
            .orElseThrow()
            .getMountPath();

    // Run it as kubelet would; the app's view of the files is the same memory volume.
    agent = new InjectedAgent(cluster, stored, "keywarden-agent", Path.of("target", "e2e-" + RUN));
    System.out.printf("agent command: %s%n", agent.commandLine());
    long started = System.nanoTime();
    agent.start();
    Path dir = agent.volumeAt(appMountPath);
    files = new SecretFiles(dir, FILES);

    // (1) The first files: all there at once, right content, right mode, startup probe passes.
    Snapshot first =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(10))
            .until(files::latest, s -> s != null);
    long firstMillis = (first.nanoTime() - started) / 1_000_000;
    String dbValue = api.get(writer, ns, "db");
    String password = jsonField(dbValue, "password");
    assertThat(first.files())
        .containsEntry("username", "orders")
        .containsEntry("password", password)
        .containsEntry(
            "api-key", api.get(cluster.token(ns, "app", "keywarden.io", 600), ns, "api-key"));
    assertThat(first.files().get("db.env"))
        .isEqualTo("USERNAME='orders'\nPASSWORD='" + password + "'\n");
    for (String name : FILES) {
      assertThat(Files.readSymbolicLink(dir.resolve(name))).isEqualTo(Path.of("..data", name));
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(name))))
          .isEqualTo("r--r-----");
    }
    assertThat(agent.startupProbePasses()).isTrue();
    System.out.printf("agent start to first files: %d ms%n", firstMillis);

    // (2) A put through the API reaches the files within the goal, as one switch of all files.
    String putValue = "{\"username\":\"orders\",\"password\":\"put-" + UUID.randomUUID() + "\"}";
    long beforePut = System.nanoTime();
    api.put(writer, ns, "db", putValue);
    long putAnswered = System.nanoTime();
    Snapshot afterPut = awaitPassword(jsonField(putValue, "password"), Duration.ofSeconds(10));
    // From sending the put: the agent's long-poll answer can overtake the put's own answer.
    Duration putLatency = Duration.ofNanos(afterPut.nanoTime() - beforePut);
    System.out.printf(
        "put sent: the API answered after %d ms, the files switched after %d ms%n",
        (putAnswered - beforePut) / 1_000_000, putLatency.toMillis());
    assertThat(putLatency).isLessThan(UPDATE_GOAL);
    assertOneSwitch(beforePut, password, jsonField(putValue, "password"));

    // (3) A rotation (the annotation, as `kubectl annotate` sets it) reaches the files the same
    // way.
    String beforeRotation = jsonField(putValue, "password");
    long rotateRequested = System.nanoTime();
    // A merge patch without resourceVersion, as `kubectl annotate` sends it: the operator writes
    // status meanwhile.
    admin
        .resources(ManagedSecret.class)
        .inNamespace(ns)
        .withName("db")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"annotations\":{\"keywarden.io/rotate-now\":\"e2e-" + RUN + "\"}}}");
    Snapshot rotated =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(5))
            .until(files::latest, s -> !s.files().get("password").equals(beforeRotation));
    Duration rotationLatency = Duration.ofNanos(rotated.nanoTime() - rotateRequested);
    String rotatedPassword = rotated.files().get("password");
    assertThat(rotated.files().get("username")).isEqualTo("orders");
    assertThat(jsonField(api.get(writer, ns, "db"), "password")).isEqualTo(rotatedPassword);
    assertOneSwitch(rotateRequested, beforeRotation, rotatedPassword);
    System.out.printf(
        "rotate-now annotation to files switched: %d ms%n", rotationLatency.toMillis());
    assertThat(rotationLatency).isLessThan(UPDATE_GOAL);
    // The rotation's last steps (clearing the request) come after the new CURRENT; an operator
    // stopped before
    // them would rotate once more when it is back (crash resume), which is not what step (4) is
    // about.
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              ManagedSecret db =
                  admin.resources(ManagedSecret.class).inNamespace(ns).withName("db").get();
              return (db.getMetadata().getAnnotations() == null
                      || !db.getMetadata().getAnnotations().containsKey("keywarden.io/rotate-now"))
                  && db.getStatus().getRotation() == null;
            });

    // (4) With the API gone the files stay and the agent keeps retrying; when it is back, changes
    // flow again.
    Snapshot beforeOutage = files.latest();
    keywarden.stopOperator();
    long outageStart = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> agent.logText().contains("files kept, retrying"));
    Thread.sleep(5000);
    assertThat(agent.isAlive()).isTrue();
    assertThat(files.latest()).isEqualTo(beforeOutage);
    assertThat(files.since(outageStart)).isEmpty();
    assertThat(count(agent.logText(), "files kept, retrying")).isGreaterThanOrEqualTo(2);
    keywarden.startOperator();
    String afterOutage =
        "{\"username\":\"orders\",\"password\":\"after-outage-" + UUID.randomUUID() + "\"}";
    long restarted = System.nanoTime();
    api.put(writer, ns, "db", afterOutage);
    Snapshot recovered = awaitPassword(jsonField(afterOutage, "password"), Duration.ofSeconds(90));
    System.out.printf(
        "API down %d s; after its restart, a put reached the files in %d ms (agent backoff)%n",
        (restarted - outageStart) / 1_000_000_000, (recovered.nanoTime() - restarted) / 1_000_000);

    // (5) A revoked token: the ServiceAccount is deleted and made again, so the old token fails
    // TokenReview (a new uid). Keywarden ends the agent's waiting long-poll with a 401 on its own
    // (it reviews waiting tokens again, docs/security.md), the agent keeps its files and retries
    // with backoff, and a fresh token in the file (what kubelet writes) is picked up without a
    // restart.
    String dbRefused = "fetching secret db failed: ApiException: 401 ";
    int unauthorizedBefore = count(agent.logText(), dbRefused);
    String oldToken = agent.currentToken();
    admin.serviceAccounts().inNamespace(ns).withName("app").delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> admin.serviceAccounts().inNamespace(ns).withName("app").get() == null);
    keywarden.serviceAccount(ns, "app");
    // kube-apiserver keeps a successful token authentication for 10 s (its token success cache),
    // so TokenReview says yes for that long after the revocation; Keywarden's own reuse
    // (token-cache-ttl, 1 s here) lapses after that.
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> !tokenReviewAccepts(admin, oldToken));
    long refusedSince = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> count(agent.logText(), dbRefused) > unauthorizedBefore);
    System.out.printf(
        "revoked token: the waiting long-poll ended with 401 %d ms after TokenReview refused it%n",
        (System.nanoTime() - refusedSince) / 1_000_000);
    Snapshot duringRevocation = files.latest();
    api.put(
        writer,
        ns,
        "db",
        "{\"username\":\"orders\",\"password\":\"revoked-" + UUID.randomUUID() + "\"}");
    int refusedAtPut = count(agent.logText(), dbRefused);
    // The agent's next try, sent after the put and its backoff (full jitter, at most 60 s), is
    // refused as well. An accepted try would have returned the new version at once.
    await()
        .atMost(Duration.ofSeconds(75))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> count(agent.logText(), dbRefused) > refusedAtPut);
    assertThat(agent.isAlive()).isTrue();
    assertThat(files.latest())
        .as("files kept while the token is refused")
        .isEqualTo(duringRevocation);
    assertThat(files.latest().files().values())
        .as("the value put after the revocation never reached the files")
        .noneMatch(text -> text.contains("revoked-"));
    long newToken = System.nanoTime();
    agent.refreshToken();
    String afterToken =
        "{\"username\":\"orders\",\"password\":\"new-token-" + UUID.randomUUID() + "\"}";
    api.put(writer, ns, "db", afterToken);
    Snapshot last = awaitPassword(jsonField(afterToken, "password"), Duration.ofSeconds(90));
    System.out.printf(
        "fresh token written; with it, the next put reached the files %d ms later (agent backoff)%n",
        (last.nanoTime() - newToken) / 1_000_000);

    // Across the whole run: every state any reader could see was consistent, and nothing secret was
    // logged.
    for (Snapshot snapshot : files.history()) {
      assertThat(envPassword(snapshot))
          .as("db.env and password in %s", snapshot.dataDir())
          .isEqualTo(snapshot.files().get("password"));
    }
    String log = agent.logText();
    for (Snapshot snapshot : files.history()) {
      assertThat(log)
          .doesNotContain(snapshot.files().get("password"))
          .doesNotContain(snapshot.files().get("api-key"));
    }
    assertThat(log)
        .doesNotContain(
            Files.readString(agent.volumeAt("/var/run/secrets/keywarden-token").resolve("token")));
    System.out.printf("agent log (%s):%n%s", agent.log(), log);
  }

  /**
   * All states seen since {@code since}: the old password, then the new one, with one ..data switch
   * and no mix.
   */
  private void assertOneSwitch(long since, String oldPassword, String newPassword) {
    List<Snapshot> states = files.since(since);
    assertThat(states).as("states seen after the change").hasSize(1);
    Snapshot next = states.get(0);
    assertThat(next.files().get("password")).isEqualTo(newPassword);
    assertThat(envPassword(next)).isEqualTo(newPassword);
    assertThat(next.files().get("password")).isNotEqualTo(oldPassword);
  }

  private Snapshot awaitPassword(String password, Duration atMost) {
    return await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(5))
        .until(files::latest, s -> s != null && password.equals(s.files().get("password")));
  }

  private static String envPassword(Snapshot snapshot) {
    Matcher matcher = ENV_PASSWORD.matcher(snapshot.files().get("db.env"));
    return matcher.find() ? matcher.group(1) : null;
  }

  private static String jsonField(String json, String field) throws Exception {
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get(field).asText();
  }

  private static String env(Container container, String name) {
    return container.getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .findFirst()
        .map(e -> e.getValue())
        .orElse(null);
  }

  private static int count(String text, String needle) {
    int count = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
      count++;
    }
    return count;
  }

  /** Whether kube-apiserver's TokenReview accepts the token for Keywarden's audience now. */
  private static boolean tokenReviewAccepts(KubernetesClient admin, String token) {
    TokenReview review =
        admin
            .resource(
                new TokenReviewBuilder()
                    .withNewSpec()
                    .withToken(token)
                    .withAudiences("keywarden.io")
                    .endSpec()
                    .build())
            .create();
    return review.getStatus() != null && Boolean.TRUE.equals(review.getStatus().getAuthenticated());
  }
}
