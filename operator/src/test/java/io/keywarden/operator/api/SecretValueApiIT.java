package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Applications reading values over HTTPS with ServiceAccount tokens; RBAC decides; every request is
 * audited.
 */
@KubernetesIT
class SecretValueApiIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static OperatorFixture fixture;
  private static ApiClient api;
  private static final List<String> VALUES = new ArrayList<>();

  @BeforeAll
  static void start(TestCluster cluster) throws Exception {
    fixture = new OperatorFixture(cluster, Map.of()).start();
    api = new ApiClient("https://127.0.0.1:" + fixture.apiPort, fixture.apiCa());
    var reader =
        fixture
            .client
            .getKubernetesSerialization()
            .unmarshal(
                Files.newInputStream(
                    RepositoryRoot.find().resolve("examples/rbac-reader-clusterrole.yaml")));
    fixture
        .client
        .resource((io.fabric8.kubernetes.api.model.HasMetadata) ((List<?>) reader).get(0))
        .serverSideApply();
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.closeCheckingLogNeverContains(VALUES);
    }
  }

  @Test
  void subjectListedInSpecAccessReadsTheValue(TestNamespace ns) throws Exception {
    String value = secret(ns, "db-password", "[{name: app}]");
    String token = token(ns, "app", "keywarden.io");

    HttpResponse<String> response = awaitStatus(path(ns, "db-password") + "/value", token, 200);

    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("SecretString").asText()).isEqualTo(value);
    assertThat(body.get("Name").asText()).isEqualTo("db-password");
    assertThat(body.get("VersionStages")).extracting(JsonNode::asText).containsExactly("CURRENT");
    assertThat(body.get("VersionId").asText())
        .isEqualTo(fixture.get(ns.name(), "db-password").getStatus().getCurrentVersionId());
    assertThat(response.headers().firstValue("Cache-Control")).contains("no-store");
    assertAudited(token, ns, "db-password", "GetSecretValue", true, 200);
  }

  @Test
  void clusterRoleBindingGrantsReadingWithoutSpecAccess(TestNamespace ns) throws Exception {
    String value = secret(ns, "shared", "[]");
    String token = token(ns, "reporting", "keywarden.io");
    fixture
        .client
        .rbac()
        .roleBindings()
        .inNamespace(ns.name())
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("reporting-reads-secrets")
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole")
                .withName("keywarden-secret-reader")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("reporting")
                .withNamespace(ns.name())
                .endSubject()
                .build())
        .create();

    HttpResponse<String> response = awaitStatus(path(ns, "shared") + "/value", token, 200);

    assertThat(JSON.readTree(response.body()).get("SecretString").asText()).isEqualTo(value);
    HttpResponse<String> describe = api.get(path(ns, "shared"), token);
    assertThat(describe.statusCode()).isEqualTo(200);
    assertThat(describe.body()).contains("VersionIdsToStages").doesNotContain(value);
    assertThat(api.get(path(ns, "no-such-secret") + "/value", token).statusCode()).isEqualTo(404);
  }

  @Test
  void serviceAccountWithoutRightsGets403WithTheReason(TestNamespace ns) throws Exception {
    secret(ns, "guarded", "[{name: app}]");
    String token = token(ns, "stranger", "keywarden.io");

    HttpResponse<String> response = api.get(path(ns, "guarded") + "/value", token);

    assertThat(response.statusCode()).isEqualTo(403);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("__type").asText()).isEqualTo("AccessDeniedException");
    assertThat(body.get("Message").asText())
        .contains("system:serviceaccount:" + ns + ":stranger may not get managedsecrets/value");
    // Denied before lookup: an unknown name answers the same, so existence does not leak.
    assertThat(api.get(path(ns, "no-such-secret") + "/value", token).statusCode()).isEqualTo(403);
    assertAudited(token, ns, "guarded", "GetSecretValue", false, 403);
  }

  @Test
  void tokenForAnotherAudienceOrNoTokenGets401(TestNamespace ns) throws Exception {
    secret(ns, "audience-bound", "[{name: app}]");

    HttpResponse<String> other =
        api.get(path(ns, "audience-bound") + "/value", token(ns, "app", "vault"));
    HttpResponse<String> none = api.get(path(ns, "audience-bound") + "/value", null);

    assertThat(other.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(other.body()).get("Message").asText())
        .contains("audience keywarden.io");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(none.body()).get("__type").asText())
        .isEqualTo("UnrecognizedClientException");
  }

  @Test
  void serviceAccountOfAnotherNamespaceNeedsToBeListed(TestCluster cluster, TestNamespace ns)
      throws Exception {
    String other = ns.name() + "-other";
    fixture
        .client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(other).endMetadata().build())
        .create();
    try {
      secret(ns, "cross", "[{name: app}]");
      fixture
          .client
          .serviceAccounts()
          .inNamespace(other)
          .withName("default")
          .waitUntilCondition(sa -> sa != null, 60, java.util.concurrent.TimeUnit.SECONDS);
      fixture
          .client
          .serviceAccounts()
          .inNamespace(other)
          .resource(
              new ServiceAccountBuilder().withNewMetadata().withName("app").endMetadata().build())
          .create();
      String foreign = cluster.token(other, "app", "keywarden.io", 600);

      assertThat(api.get(path(ns, "cross") + "/value", foreign).statusCode()).isEqualTo(403);

      fixture
          .client
          .resources(ManagedSecret.class)
          .inNamespace(ns.name())
          .withName("cross")
          .edit(
              s -> {
                io.keywarden.api.v1alpha1.AccessRule foreignApp =
                    new io.keywarden.api.v1alpha1.AccessRule();
                foreignApp.setName("app");
                foreignApp.setNamespace(other);
                s.getSpec().getAccess().add(foreignApp);
                return s;
              });
      awaitStatus(path(ns, "cross") + "/value", foreign, 200);
    } finally {
      fixture.client.namespaces().withName(other).delete();
    }
  }

  @Test
  void subjectRemovedFromSpecAccessIsRefusedAfterFiveSeconds(TestNamespace ns) throws Exception {
    secret(ns, "revocable", "[{name: app}]");
    String token = token(ns, "app", "keywarden.io");
    awaitStatus(path(ns, "revocable") + "/value", token, 200);

    fixture
        .client
        .resources(ManagedSecret.class)
        .inNamespace(ns.name())
        .withName("revocable")
        .edit(
            s -> {
              s.getSpec().setAccess(new ArrayList<>());
              return s;
            });
    Thread.sleep(5_000);

    assertThat(api.get(path(ns, "revocable") + "/value", token).statusCode()).isEqualTo(403);
  }

  @Test
  void longPollAnswersWithinASecondOfAPut(TestNamespace ns) throws Exception {
    secret(ns, "rotating", "[{name: app, actions: [get]}, {name: writer, actions: [get, update]}]");
    String reader = token(ns, "app", "keywarden.io");
    String writer = token(ns, "writer", "keywarden.io");
    HttpResponse<String> first = awaitStatus(path(ns, "rotating") + "/value", reader, 200);
    String version = JSON.readTree(first.body()).get("VersionId").asText();
    awaitStatus(path(ns, "rotating"), writer, 200);

    CompletableFuture<HttpResponse<String>> poll =
        api.getAsync(
            path(ns, "rotating") + "/value?waitForChange=" + version + "&timeoutSeconds=60",
            reader);
    Thread.sleep(1_000);
    assertThat(poll).isNotDone();
    String newValue = "rotated-" + UUID.randomUUID();
    VALUES.add(newValue);
    HttpResponse<String> put =
        api.put(
            path(ns, "rotating") + "/value",
            writer,
            JSON.writeValueAsString(Map.of("SecretString", newValue)));
    long putDone = System.nanoTime();
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

    HttpResponse<String> changed = poll.get(10, java.util.concurrent.TimeUnit.SECONDS);
    double afterPutMs = (System.nanoTime() - putDone) / 1e6;

    assertThat(changed.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(changed.body());
    assertThat(body.get("SecretString").asText()).isEqualTo(newValue);
    assertThat(body.get("VersionId").asText())
        .isEqualTo(JSON.readTree(put.body()).get("VersionId").asText());
    assertThat(afterPutMs)
        .as("long-poll answered %.0f ms after the put", afterPutMs)
        .isLessThan(1000);
    ManagedSecret stored = fixture.get(ns.name(), "rotating");
    assertThat(stored.getStatus().getPreviousVersionId()).isEqualTo(version);
    assertThat(stored.getStatus().getVersions())
        .filteredOn(v -> v.getVersionId().equals(version))
        .singleElement()
        .satisfies(v -> assertThat(v.getStages()).containsExactly("PREVIOUS"));

    HttpResponse<String> previous =
        api.get(path(ns, "rotating") + "/value?versionStage=PREVIOUS", reader);
    assertThat(JSON.readTree(previous.body()).get("VersionId").asText()).isEqualTo(version);
    HttpResponse<String> timeout =
        api.get(
            path(ns, "rotating")
                + "/value?waitForChange="
                + body.get("VersionId").asText()
                + "&timeoutSeconds=1",
            reader);
    assertThat(timeout.statusCode()).isEqualTo(304);
  }

  /**
   * A put wakes every waiter of the secret at once, each with its own token (its own TokenReview
   * and, a pod-bound identity naming its pod or token, its own SubjectAccessReview), after the
   * cached decisions expired during the wait. Each is authorized again before it is answered: a
   * caller removed from spec.access while waiting is refused, every other one gets the new value.
   */
  @Test
  void aPutAnswersManyWaitersEachAuthorizedAgainWithItsOwnToken(TestNamespace ns) throws Exception {
    secret(ns, "watched", "[{name: app}, {name: leaver}, {name: writer, actions: [get, update]}]");
    String writer = token(ns, "writer", "keywarden.io");
    String leaver = token(ns, "leaver", "keywarden.io");
    List<String> readers = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      readers.add(token(ns, "app", "keywarden.io"));
    }
    assertThat(new java.util.HashSet<>(readers)).as("one token per waiter").hasSize(24);
    String version =
        JSON.readTree(awaitStatus(path(ns, "watched") + "/value", readers.get(0), 200).body())
            .get("VersionId")
            .asText();
    awaitStatus(path(ns, "watched") + "/value", leaver, 200);
    awaitStatus(path(ns, "watched") + "/value", writer, 200);
    String wait = path(ns, "watched") + "/value?waitForChange=" + version + "&timeoutSeconds=60";
    List<CompletableFuture<HttpResponse<String>>> polls = new ArrayList<>();
    for (String reader : readers) {
      polls.add(api.getAsync(wait, reader));
    }
    CompletableFuture<HttpResponse<String>> leaving = api.getAsync(wait, leaver);
    // Every poll waits before the leaver is removed: one still on its way (25 TLS handshakes, 24
    // first reviews) would be refused at once instead of when woken.
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> waiters(ns) == 25);

    fixture
        .client
        .resources(ManagedSecret.class)
        .inNamespace(ns.name())
        .withName("watched")
        .edit(
            s -> {
              s.getSpec().getAccess().removeIf(a -> a.getName().equals("leaver"));
              return s;
            });
    // The leaver's RoleBinding goes, and every decision cached before the wait expires (2 s).
    await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> api.get(path(ns, "watched") + "/value", leaver).statusCode() == 403);
    Thread.sleep(2_500);
    assertThat(polls).noneMatch(CompletableFuture::isDone);
    assertThat(leaving).isNotDone();

    String newValue = putNewValue(ns, "watched", writer, "many-waiters-");
    long putDone = System.nanoTime();

    for (CompletableFuture<HttpResponse<String>> poll : polls) {
      HttpResponse<String> answer = poll.get(20, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      assertThat(JSON.readTree(answer.body()).get("SecretString").asText()).isEqualTo(newValue);
    }
    System.out.printf(
        "put -> %d waiters with their own tokens answered: %.0f ms%n",
        polls.size(), (System.nanoTime() - putDone) / 1e6);
    HttpResponse<String> refused = leaving.get(20, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
    assertThat(refused.body()).doesNotContain(newValue);
  }

  /**
   * With every waiter's token review and decision cached, a put leaves one thing uncached: the new
   * version's data key. It is unwrapped once before the waiters are woken, so each of them is
   * answered from the caches on its event loop and none queues on the worker pool.
   */
  @Test
  void wokenWaitersAreAnsweredFromTheCachesOnTheirEventLoops(TestNamespace ns) throws Exception {
    secret(ns, "rotating", "[{name: app}, {name: writer, actions: [get, update]}]");
    String writer = token(ns, "writer", "keywarden.io");
    List<String> readers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      readers.add(token(ns, "app", "keywarden.io"));
    }
    String version =
        JSON.readTree(awaitStatus(path(ns, "rotating") + "/value", readers.get(0), 200).body())
            .get("VersionId")
            .asText();
    // The first read of the day records it in the status (a write, off the event loop): done
    // before the waiters wait, so that the data key is the one thing a woken waiter lacks.
    await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> fixture.get(ns.name(), "rotating").getStatus().getLastAccessedDate() != null);
    String wait = path(ns, "rotating") + "/value?waitForChange=" + version + "&timeoutSeconds=60";
    List<CompletableFuture<HttpResponse<String>>> polls = new ArrayList<>();
    for (String reader : readers) {
      polls.add(api.getAsync(wait, reader));
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> waiters(ns) == 10);
    double fromCaches = wakeUps("event-loop") + wakeUps("after-review");
    double onPool = wakeUps("pool");

    String newValue = putNewValue(ns, "rotating", writer, "woken-");
    for (CompletableFuture<HttpResponse<String>> poll : polls) {
      HttpResponse<String> answer = poll.get(20, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      assertThat(JSON.readTree(answer.body()).get("SecretString").asText()).isEqualTo(newValue);
    }
    assertThat(wakeUps("pool") - onPool).as("woken waiters answered on the pool").isZero();
    // A waiter whose decision lapsed meanwhile (an RBAC event in the namespace, or 2 s without
    // the RBAC watch) is reviewed first and then answered from the caches as well.
    assertThat(wakeUps("event-loop") + wakeUps("after-review") - fromCaches)
        .as("woken waiters answered from the caches")
        .isGreaterThanOrEqualTo(10);
  }

  /** Puts a new random value (its prefix, then a UUID) as CURRENT with the writer's token. */
  private static String putNewValue(TestNamespace ns, String name, String writer, String prefix)
      throws Exception {
    String value = prefix + UUID.randomUUID();
    VALUES.add(value);
    HttpResponse<String> put =
        api.put(
            path(ns, name) + "/value",
            writer,
            JSON.writeValueAsString(Map.of("SecretString", value)));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    return value;
  }

  /** keywarden_api_wakeups_total{answered}: woken long-polls by where they were answered. */
  private static double wakeUps(String answered) {
    return fixture.metric("keywarden_api_wakeups_total", "answered", answered).orElse(0);
  }

  /**
   * Under the RBAC watch a decision outlives keywarden.api.decision-cache-ttl (2 s) without a new
   * SubjectAccessReview, and a removed binding still stops working at once: a RoleBinding (the
   * namespace's decisions are forgotten) and a ClusterRoleBinding (all of them).
   */
  @Test
  void decisionsAreKeptUntilAnRbacChangeMayAffectThem(TestNamespace ns) throws Exception {
    secret(ns, "kept", "[{name: app}]");
    String app = token(ns, "app", "keywarden.io");
    String reader = token(ns, "cluster-reader", "keywarden.io");
    String value = path(ns, "kept") + "/value";
    String clusterName = "keywarden-it-" + ns.name();
    fixture
        .client
        .rbac()
        .clusterRoles()
        .resource(
            new ClusterRoleBuilder()
                .withNewMetadata()
                .withName(clusterName)
                .endMetadata()
                .addNewRule()
                .withApiGroups("keywarden.io")
                .withResources("managedsecrets/value")
                .withResourceNames("kept")
                .withVerbs("get")
                .endRule()
                .build())
        .create();
    try {
      fixture
          .client
          .rbac()
          .clusterRoleBindings()
          .resource(
              new ClusterRoleBindingBuilder()
                  .withNewMetadata()
                  .withName(clusterName)
                  .endMetadata()
                  .withNewRoleRef()
                  .withApiGroup("rbac.authorization.k8s.io")
                  .withKind("ClusterRole")
                  .withName(clusterName)
                  .endRoleRef()
                  .addNewSubject()
                  .withKind("ServiceAccount")
                  .withName("cluster-reader")
                  .withNamespace(ns.name())
                  .endSubject()
                  .build())
          .create();
      awaitStatus(value, app, 200);
      awaitStatus(value, reader, 200);
      // Quiet RBAC: the bindings' events, and the second forgetting a ttl (2 s) after them, are
      // behind us.
      Thread.sleep(3_000);
      assertThat(api.get(value, app).statusCode()).isEqualTo(200);
      assertThat(api.get(value, reader).statusCode()).isEqualTo(200);
      double missesBefore = decisionMisses();
      Thread.sleep(3_000);
      assertThat(api.get(value, app).statusCode()).isEqualTo(200);
      assertThat(api.get(value, reader).statusCode()).isEqualTo(200);
      assertThat(decisionMisses())
          .as("decisions older than decision-cache-ttl still cached")
          .isEqualTo(missesBefore);

      // Changes that grant nothing new (labels, as a GitOps tool adds; a server-side apply that
      // only takes over fields) leave the decisions where they are.
      fixture
          .client
          .rbac()
          .clusterRoleBindings()
          .withName(clusterName)
          .edit(
              b -> {
                b.getMetadata().setLabels(tracked(b.getMetadata().getLabels()));
                return b;
              });
      fixture
          .client
          .rbac()
          .roleBindings()
          .inNamespace(ns.name())
          .withName("keywarden-kept-get")
          .edit(
              b -> {
                b.getMetadata().setLabels(tracked(b.getMetadata().getLabels()));
                return b;
              });
      Thread.sleep(3_000);
      assertThat(api.get(value, app).statusCode()).isEqualTo(200);
      assertThat(api.get(value, reader).statusCode()).isEqualTo(200);
      assertThat(decisionMisses())
          .as("decisions kept across RBAC changes that grant nothing new")
          .isEqualTo(missesBefore);

      fixture
          .client
          .resources(ManagedSecret.class)
          .inNamespace(ns.name())
          .withName("kept")
          .edit(
              s -> {
                s.getSpec().getAccess().clear();
                return s;
              });
      await()
          .atMost(Duration.ofSeconds(5))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> api.get(value, app).statusCode() == 403);

      Thread.sleep(3_000);
      fixture.client.rbac().clusterRoleBindings().withName(clusterName).delete();
      await()
          .atMost(Duration.ofSeconds(5))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> api.get(value, reader).statusCode() == 403);
    } finally {
      fixture.client.rbac().clusterRoleBindings().withName(clusterName).delete();
      fixture.client.rbac().clusterRoles().withName(clusterName).delete();
    }
  }

  /** keywarden_api_namespace_waiters{namespace}: long-polls waiting in this test's namespace. */
  private static double waiters(TestNamespace ns) {
    return fixture.metric("keywarden_api_namespace_waiters", "namespace", ns.name()).orElse(0);
  }

  private static Map<String, String> tracked(Map<String, String> labels) {
    Map<String, String> more =
        labels == null ? new java.util.HashMap<>() : new java.util.HashMap<>(labels);
    more.put("example.com/tracked-by", "gitops");
    return more;
  }

  /** keywarden_cache_misses_total{cache="decision"}: SubjectAccessReviews asked for. */
  private static double decisionMisses() {
    return fixture.cacheMisses("decision");
  }

  @Test
  void badRequestsGetClearJsonErrors(TestNamespace ns) throws Exception {
    secret(ns, "strict", "[{name: app, actions: [get, update, rotate]}]");
    String token = token(ns, "app", "keywarden.io");
    awaitStatus(path(ns, "strict") + "/value", token, 200);

    HttpResponse<String> badStage =
        api.get(path(ns, "strict") + "/value?versionStage=LATEST", token);
    HttpResponse<String> unknownVersion =
        api.get(path(ns, "strict") + "/value?versionId=nope", token);
    HttpResponse<String> tooLarge =
        api.put(
            path(ns, "strict") + "/value",
            token,
            JSON.writeValueAsString(Map.of("SecretString", "x".repeat(65_537))));
    HttpResponse<String> notJson = api.put(path(ns, "strict") + "/value", token, "{oops");
    HttpResponse<String> badTimeout =
        api.get(path(ns, "strict") + "/value?waitForChange=x&timeoutSeconds=9999", token);
    HttpResponse<String> password =
        api.get("/v1/random-password?PasswordLength=20&ExcludePunctuation=true", token);
    HttpResponse<String> impossible = api.get("/v1/random-password?PasswordLength=2", token);
    HttpResponse<String> rotate = api.post(path(ns, "strict") + "/rotate", token);

    assertThat(badStage.statusCode()).isEqualTo(400);
    assertThat(badStage.body()).contains("versionStage must be one of CURRENT, PREVIOUS, PENDING");
    assertThat(unknownVersion.statusCode()).isEqualTo(404);
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(tooLarge.body()).contains("65537 bytes; the limit is 65536");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(badTimeout.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(password.body()).get("RandomPassword").asText())
        .hasSize(20)
        .matches("[A-Za-z0-9]+");
    assertThat(impossible.statusCode()).isEqualTo(400);
    assertThat(impossible.body()).contains("PasswordLength is 2");
    assertThat(rotate.statusCode()).isEqualTo(202);
    // The rotate action sets keywarden.io/rotate-now; the operator may act on it (and remove it)
    // before
    // the test could read it back, so check its effect: no schedule and no spec.generate to rotate
    // with.
    fixture.awaitCondition(ns.name(), "strict", "Degraded", "True", "RotationNotConfigured");
    for (HttpResponse<String> response :
        List.of(badStage, unknownVersion, tooLarge, notJson, badTimeout, impossible)) {
      assertThat(JSON.readTree(response.body()).has("__type")).isTrue();
      assertThat(response.body()).doesNotContain("Exception:").doesNotContain("\tat ");
    }
  }

  /**
   * issue 13 item 1: a value comes back exactly as it was put, or is refused naming the field or
   * the encoding; limits count the value's bytes, not its JSON.
   */
  @Test
  void valuesComeBackExactlyOrAreRefusedNamingTheField(TestNamespace ns) throws Exception {
    String original = secret(ns, "exact", "[{name: app, actions: [get, update]}]");
    String token = token(ns, "app", "keywarden.io");
    String value = path(ns, "exact") + "/value";
    awaitStatus(value, token, 200);

    // Refused, each naming the field or the encoding; CURRENT stays as it was.
    Map<String, String> refusedJson = new java.util.LinkedHashMap<>();
    refusedJson.put(
        "{\"SecretString\":\"ab\\ud800cd\"}",
        "SecretString holds an unpaired UTF-16 surrogate \\ud800 at character 2");
    refusedJson.put(
        "{\"SecretString\":\"ab\\udc00\"}",
        "SecretString holds an unpaired UTF-16 surrogate \\udc00 at character 2");
    refusedJson.put("{\"SecretString\":123}", "SecretString must be a JSON string, not NUMBER");
    refusedJson.put("{\"SecretString\":\"\"}", "SecretString is empty");
    refusedJson.put(
        "{\"SecretString\":\"a\",\"SecretString\":\"b\"}",
        "the body sets field SecretString twice");
    for (String binary : List.of("YQ", "YR==", "YW Jj", "YWJj\\n", "YW-_", "Y===")) {
      refusedJson.put(
          "{\"SecretBinary\":\"" + binary + "\"}",
          "SecretBinary must be a JSON string of canonical base64 (RFC 4648 section 4");
    }
    refusedJson.put("{\"SecretBinary\":true}", "SecretBinary must be a JSON string");
    for (Map.Entry<String, String> refused : refusedJson.entrySet()) {
      HttpResponse<String> response = api.put(value, token, refused.getKey());
      assertThat(response.statusCode()).as(refused.getKey()).isEqualTo(400);
      assertThat(JSON.readTree(response.body()).get("Message").asText())
          .as(refused.getKey())
          .contains(refused.getValue());
    }
    byte[] latin1 =
        "{\"SecretString\":\"caf\u00e9\"}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    byte[] utf16 = "{\"SecretString\":\"x\"}".getBytes(java.nio.charset.StandardCharsets.UTF_16);
    for (byte[] body : List.of(latin1, utf16)) {
      HttpResponse<String> response = api.putBytes(value, token, body);
      assertThat(response.statusCode()).isEqualTo(400);
      assertThat(response.body())
          .contains("the body is not UTF-8 (malformed byte sequence at byte offset");
    }
    assertThat(JSON.readTree(api.get(value, token).body()).get("SecretString").asText())
        .isEqualTo(original);

    // Bytes out == bytes in, for every character JSON must or may escape.
    StringBuilder hard = new StringBuilder("exact-" + UUID.randomUUID());
    for (char c = 0; c < 0x20; c++) {
      hard.append(c);
    }
    hard.append("\"\\/\u007f\u0080\u00ff\u2028\u2029\ufeff\ud83d\ude00\uffff");
    VALUES.add(hard.substring(0, 42));
    assertRoundTrip(
        value,
        token,
        "SecretString",
        hard.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    byte[] binary = new byte[65_536];
    new java.util.Random(13).nextBytes(binary);
    binary[0] = (byte) 0xff;
    assertRoundTrip(value, token, "SecretBinary", binary);
    // Binary bytes that happen to be UTF-8 text come back as binary: the form it was put in.
    assertRoundTrip(
        value,
        token,
        "SecretBinary",
        "user=app\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertRoundTrip(value, token, "SecretBinary", new byte[] {'{', '}'});

    // The limit is 65,536 bytes of value, however long its JSON: every byte a \\u0001 escape.
    String atLimit = "\u0001".repeat(65_536);
    HttpResponse<String> escaped =
        api.put(value, token, JSON.writeValueAsString(Map.of("SecretString", atLimit)));
    assertThat(escaped.statusCode()).as(escaped.body()).isEqualTo(200);
    String euros = "\u20ac".repeat(21_845) + "x"; // 65,535 + 1 bytes of UTF-8
    assertThat(
            api.put(value, token, JSON.writeValueAsString(Map.of("SecretString", euros)))
                .statusCode())
        .isEqualTo(200);
    HttpResponse<String> over =
        api.put(value, token, JSON.writeValueAsString(Map.of("SecretString", atLimit + "\u0001")));
    assertThat(over.statusCode()).isEqualTo(413);
    assertThat(over.body()).contains("the SecretString value is 65537 bytes; the limit is 65536");
    HttpResponse<String> overBinary =
        api.put(
            value,
            token,
            JSON.writeValueAsString(
                Map.of(
                    "SecretBinary",
                    java.util.Base64.getEncoder().encodeToString(new byte[65_537]))));
    assertThat(overBinary.statusCode()).isEqualTo(413);
    assertThat(overBinary.body()).contains("the SecretBinary value is 65537 bytes");
  }

  /** PUT the bytes in {@code field}, GET them back: same bytes, same field, valid UTF-8 JSON. */
  private static void assertRoundTrip(String value, String token, String field, byte[] bytes)
      throws Exception {
    Object sent =
        field.equals("SecretString")
            ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
            : java.util.Base64.getEncoder().encodeToString(bytes);
    HttpResponse<String> put = api.put(value, token, JSON.writeValueAsString(Map.of(field, sent)));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    HttpResponse<byte[]> got = api.getBytes(value, token);
    assertThat(got.statusCode()).isEqualTo(200);
    byte[] raw = got.body();
    // Strict UTF-8, and no raw control character: JSON escapes them (RFC 8259 section 7).
    java.nio.charset.StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
        .decode(java.nio.ByteBuffer.wrap(raw));
    for (byte b : raw) {
      assertThat(b & 0xff).as("raw control byte in the response").isGreaterThanOrEqualTo(0x20);
    }
    JsonNode body = JSON.readTree(raw);
    assertThat(body.has(field)).as("answered as %s", field).isTrue();
    assertThat(body.has(field.equals("SecretString") ? "SecretBinary" : "SecretString"))
        .as("answered only as %s", field)
        .isFalse();
    byte[] back =
        field.equals("SecretString")
            ? body.get(field).textValue().getBytes(java.nio.charset.StandardCharsets.UTF_8)
            : java.util.Base64.getDecoder().decode(body.get(field).textValue());
    assertThat(back).isEqualTo(bytes);
    assertThat(body.get("VersionId").asText())
        .isEqualTo(JSON.readTree(put.body()).get("VersionId").asText());
  }

  @Test
  void aReadRecordsItsDayAsLastAccessedDateWithOneStatusWriteADay(TestNamespace ns)
      throws Exception {
    secret(ns, "audited", "[]");
    String token = token(ns, "auditor", "keywarden.io");
    bindReader(ns, "auditor");
    assertThat(fixture.get(ns.name(), "audited").getStatus().getLastAccessedDate()).isNull();

    awaitStatus(path(ns, "audited") + "/value", token, 200);

    String today =
        java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.DAYS).toString();
    var recorded =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> fixture.get(ns.name(), "audited"),
                s -> today.equals(s.getStatus().getLastAccessedDate()));
    // More reads the same day write nothing: the object keeps its resourceVersion.
    for (int i = 0; i < 5; i++) {
      assertThat(api.get(path(ns, "audited") + "/value", token).statusCode()).isEqualTo(200);
    }
    Thread.sleep(1000);
    assertThat(fixture.get(ns.name(), "audited").getMetadata().getResourceVersion())
        .isEqualTo(recorded.getMetadata().getResourceVersion());
    JsonNode describe = JSON.readTree(api.get(path(ns, "audited"), token).body());
    assertThat(describe.get("LastAccessedDate").asText()).isEqualTo(today);
  }

  private static void bindReader(TestNamespace ns, String serviceAccount) {
    fixture
        .client
        .rbac()
        .roleBindings()
        .inNamespace(ns.name())
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName(serviceAccount + "-reads-secrets")
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole")
                .withName("keywarden-secret-reader")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(serviceAccount)
                .withNamespace(ns.name())
                .endSubject()
                .build())
        .create();
  }

  private static String secret(TestNamespace ns, String name, String access) {
    String value = "value-" + UUID.randomUUID();
    VALUES.add(value);
    fixture.createImported(ns.name(), name, value, "access: " + access);
    return value;
  }

  private static String token(TestNamespace ns, String serviceAccount, String audience) {
    return fixture.serviceAccountToken(ns.name(), serviceAccount, audience);
  }

  /** RBAC objects reach the authorizer's cache a moment after they are written. */
  private static HttpResponse<String> awaitStatus(String path, String token, int status) {
    return await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> api.get(path, token), r -> r.statusCode() == status);
  }

  private static void assertAudited(
      String token, TestNamespace ns, String secret, String action, boolean allowed, int status) {
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(
                        fixture
                            .operator
                            .logText()
                            .lines()
                            .filter(
                                l ->
                                    l.startsWith("{")
                                        && l.contains("\"audit\":\"keywarden.io/v1\""))
                            .map(SecretValueApiIT::parse)
                            .filter(
                                j ->
                                    ns.name().equals(j.path("namespace").asText())
                                        && secret.equals(j.path("secret").asText())
                                        && action.equals(j.path("action").asText())
                                        && j.path("status").asInt() == status)
                            .toList())
                    .isNotEmpty()
                    .allSatisfy(
                        j -> {
                          assertThat(j.path("allowed").asBoolean()).isEqualTo(allowed);
                          assertThat(j.path("subject").asText())
                              .startsWith("system:serviceaccount:" + ns + ":");
                          assertThat(j.path("latencyMs").asDouble()).isPositive();
                          assertThat(j.toString()).doesNotContain(token);
                        }));
  }

  private static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String path(TestNamespace ns, String name) {
    return "/v1/namespaces/" + ns.name() + "/managedsecrets/" + name;
  }
}
