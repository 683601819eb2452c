package io.keywarden.operator.api;

import static java.net.http.HttpClient.Version.HTTP_2;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Long-polls that wait longer than a token review is cached. The agent and the CSI plugin wait 60
 * s, as long as the default review life, so a rotation used to wake pods whose reviews had lapsed,
 * and each woken pod waited for a TokenReview of its own (the first rotation after 100 pods
 * started: 1.2 s from CURRENT to the last pod's file, against 0.3–0.5 s for later ones). Here the
 * review lives 4 s and the polls wait 7 s before the value changes.
 */
@KubernetesIT
class LongPollReviewsIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> VALUES = new ArrayList<>();

  private static OperatorFixture fixture;
  private static ApiClient api;

  @BeforeAll
  static void start(TestCluster cluster) throws Exception {
    fixture = new OperatorFixture(cluster, Map.of("KEYWARDEN_API_TOKEN_CACHE_TTL", "4s")).start();
    api = new ApiClient("https://127.0.0.1:" + fixture.apiPort, fixture.apiCa());
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.closeCheckingLogNeverContains(VALUES);
    }
  }

  @Test
  void waitersWokenAfterTheirReviewsLifeAreAnsweredWithoutReviewingAgain(TestNamespace ns)
      throws Exception {
    String first = "first-" + UUID.randomUUID();
    VALUES.add(first);
    fixture.createImported(
        ns.name(),
        "polled",
        first,
        "access: [{name: app}, {name: writer, actions: [get, update]}]");
    String path = "/v1/namespaces/" + ns.name() + "/managedsecrets/polled/value";
    List<String> readers = new ArrayList<>();
    String version = null;
    for (int i = 0; i < 8; i++) {
      String token = fixture.serviceAccountToken(ns.name(), "app", "keywarden.io");
      readers.add(token);
      version = JSON.readTree(awaitStatus(path, token).body()).get("VersionId").asText();
    }
    String writer = fixture.serviceAccountToken(ns.name(), "writer", "keywarden.io");
    awaitStatus(path, writer);

    List<CompletableFuture<HttpResponse<String>>> polls = new ArrayList<>();
    for (String reader : readers) {
      polls.add(api.getAsync(path + "?waitForChange=" + version + "&timeoutSeconds=30", reader));
    }
    // Past the reviews' life (4 s) and a bit: without renewal every waiter's review has lapsed.
    Thread.sleep(7_000);
    assertThat(polls).noneMatch(CompletableFuture::isDone);
    // The writer's own review, made fresh now, so that the put does not count as a miss.
    assertThat(api.get(path, writer).statusCode()).isEqualTo(200);
    double missesBefore = tokenMisses();

    String second = "second-" + UUID.randomUUID();
    VALUES.add(second);
    HttpResponse<String> put =
        api.put(path, writer, JSON.writeValueAsString(Map.of("SecretString", second)));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    for (CompletableFuture<HttpResponse<String>> poll : polls) {
      HttpResponse<String> answer = poll.get(10, TimeUnit.SECONDS);
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      assertThat(JSON.readTree(answer.body()).get("SecretString").asText()).isEqualTo(second);
    }
    assertThat(tokenMisses())
        .as("token reviews the woken waiters had to wait for")
        .isEqualTo(missesBefore);
  }

  /**
   * A wait whose token is revoked (its ServiceAccount deleted) ends with 401 once TokenReview
   * refuses the token: kube-apiserver keeps accepting it for up to 10 s (its token cache), the
   * review here is renewed within its 4 s life, and waits are looked at every 0.5 s, so well within
   * 30 s. Before, it waited out its timeout (here 120 s) and answered 304.
   */
  @Test
  void aWaitWhoseTokenIsRevokedEndsWithUnauthorized(TestNamespace ns) throws Exception {
    String first = "kept-" + UUID.randomUUID();
    VALUES.add(first);
    fixture.createImported(
        ns.name(), "watched", first, "access: [{name: leaving}, {name: staying}]");
    String path = "/v1/namespaces/" + ns.name() + "/managedsecrets/watched/value";
    String leaving = fixture.serviceAccountToken(ns.name(), "leaving", "keywarden.io");
    String staying = fixture.serviceAccountToken(ns.name(), "staying", "keywarden.io");
    String version = JSON.readTree(awaitStatus(path, leaving).body()).get("VersionId").asText();
    awaitStatus(path, staying);
    String wait = path + "?waitForChange=" + version + "&timeoutSeconds=120";
    CompletableFuture<HttpResponse<String>> revoked = api.getAsync(wait, leaving);
    CompletableFuture<HttpResponse<String>> kept = api.getAsync(wait, staying);
    Thread.sleep(1_000);
    assertThat(revoked).isNotDone();

    long deleted = System.nanoTime();
    fixture.client.serviceAccounts().inNamespace(ns.name()).withName("leaving").delete();

    HttpResponse<String> answer = revoked.get(30, TimeUnit.SECONDS);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(401);
    assertThat(answer.body()).contains("token rejected by TokenReview").doesNotContain(first);
    System.out.printf(
        "revoked wait ended %.1f s after the ServiceAccount was deleted%n",
        (System.nanoTime() - deleted) / 1e9);
    assertThat(kept).as("the other ServiceAccount's wait goes on").isNotDone();
    kept.cancel(true);
  }

  /**
   * Over HTTP/2 a connection carries many long-polls as streams. A client that gives one up resets
   * its stream and keeps the connection; the wait must be released then, not at its timeout (the
   * cleanup used to hang on the connection's single close handler). The JDK client speaks h2 here
   * (ALPN) and resets a stream when its request is cancelled.
   */
  @Test
  void aWaitWhoseHttp2StreamIsResetIsReleasedWhileItsConnectionStays(TestNamespace ns)
      throws Exception {
    String value = "reset-" + UUID.randomUUID();
    VALUES.add(value);
    fixture.createImported(ns.name(), "streamed", value, "access: [{name: app}]");
    String path = "/v1/namespaces/" + ns.name() + "/managedsecrets/streamed/value";
    String token = fixture.serviceAccountToken(ns.name(), "app", "keywarden.io");
    HttpResponse<String> first = awaitStatus(path, token);
    assertThat(first.version()).as("the client and the API agree on h2").isEqualTo(HTTP_2);
    String version = JSON.readTree(first.body()).get("VersionId").asText();

    List<CompletableFuture<HttpResponse<String>>> polls = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      polls.add(api.getAsync(path + "?waitForChange=" + version + "&timeoutSeconds=120", token));
    }
    await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> waiting(ns.name()) == 5);

    for (CompletableFuture<HttpResponse<String>> poll : polls.subList(0, 3)) {
      poll.cancel(true);
    }
    long reset = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> waiting(ns.name()) == 2);
    System.out.printf(
        "3 of 5 h2 long-polls reset: released %d ms later%n",
        (System.nanoTime() - reset) / 1_000_000);
    assertThat(polls.subList(3, 5))
        .as("the other streams still wait")
        .noneMatch(CompletableFuture::isDone);
    HttpResponse<String> again = api.get(path, token);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(again.version()).isEqualTo(HTTP_2);
    polls.subList(3, 5).forEach(poll -> poll.cancel(true));
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> waiting(ns.name()) == 0);
  }

  private static double waiting(String namespace) {
    return fixture.metric("keywarden_api_namespace_waiters", "namespace", namespace).orElse(0);
  }

  private static HttpResponse<String> awaitStatus(String path, String token) {
    return await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> api.get(path, token), r -> r.statusCode() == 200);
  }

  private static double tokenMisses() {
    return fixture.cacheMisses("token");
  }
}
