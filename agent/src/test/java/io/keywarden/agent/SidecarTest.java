package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's fetch loop against the stand-in API: what a pod's files go through. */
class SidecarTest {

  private static final String DB_FILES =
      "[{\"file\":\"password\",\"secret\":\"db\",\"key\":\"password\"},"
          + "{\"file\":\"db.env\",\"secret\":\"db\",\"format\":\"env\"}]";

  @TempDir Path dir;

  private FakeSecretApi server;
  private Path out;
  private Path tokenFile;
  private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
  private final Log log = new Log(new PrintStream(logged, true, StandardCharsets.UTF_8));
  private Sidecar sidecar;

  @BeforeEach
  void start() throws IOException {
    server = FakeSecretApi.start();
    out = Files.createDirectory(dir.resolve("out"));
    tokenFile = Files.writeString(dir.resolve("token"), "token-1");
    server.expectToken("token-1");
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (sidecar != null) {
      sidecar.close();
    }
    server.close();
  }

  private Sidecar startAgent(String files, String... moreEnv) throws ConfigException {
    Map<String, String> env = new HashMap<>();
    env.put("KEYWARDEN_API_URL", server.url());
    env.put("KEYWARDEN_ALLOW_INSECURE_HTTP", "true");
    env.put("KEYWARDEN_TOKEN_FILE", tokenFile.toString());
    env.put("KEYWARDEN_NAMESPACE", "shop");
    env.put("KEYWARDEN_OUTPUT_DIR", out.toString());
    env.put("KEYWARDEN_FILES", files);
    env.put("KEYWARDEN_WATCH_TIMEOUT_SECONDS", "1");
    for (int i = 0; i < moreEnv.length; i += 2) {
      env.put(moreEnv[i], moreEnv[i + 1]);
    }
    AgentConfig config = AgentConfig.fromEnv(env);
    sidecar =
        Sidecar.start(config, new SecretApi(config, "test"), SecretSync.create(config, log), log);
    return sidecar;
  }

  private static String db(String password) {
    return "{\"user\":\"app\",\"password\":\"" + password + "\"}";
  }

  @Test
  void firstWriteHasEveryFileOfEverySecret() throws Exception {
    server.put("db", db("one"));
    server.put("api-key", "k-123");

    startAgent(
        "[{\"file\":\"password\",\"secret\":\"db\",\"key\":\"password\"},"
            + "{\"file\":\"db.json\",\"secret\":\"db\",\"format\":\"json\"},{\"file\":\"api.key\",\"secret\":\"api-key\"}]",
        "KEYWARDEN_FILE_MODE",
        "0440");

    await(() -> Files.exists(out.resolve("..data")));
    assertThat(out.resolve("password")).hasContent("one");
    assertThat(out.resolve("db.json")).hasContent("{\"user\":\"app\",\"password\":\"one\"}");
    assertThat(out.resolve("api.key")).hasContent("k-123");
    assertThat(Files.getPosixFilePermissions(out.resolve("api.key"))).hasSize(2);
    // The agent logs the write after swapping ..data: wait for the line, then count it.
    await(() -> !logLines("wrote 3 files").isEmpty());
    assertThat(logLines("wrote 3 files")).hasSize(1);
  }

  @Test
  void nothingIsWrittenUntilEverySecretHasAValue() throws Exception {
    server.put("db", db("one"));
    startAgent(
        "[{\"file\":\"password\",\"secret\":\"db\",\"key\":\"password\"},{\"file\":\"api.key\",\"secret\":\"api-key\"}]");

    await(() -> server.requests().stream().anyMatch(request -> request.status() == 404));
    assertThat(out).isEmptyDirectory();

    server.put("api-key", "k-123");
    await(() -> Files.exists(out.resolve("api.key")));
    assertThat(out.resolve("password")).hasContent("one");
  }

  @Test
  void aChangeRewritesAllFilesInOneSwapAndNoReaderSeesAMix() throws Exception {
    server.put("db", db("one"));
    startAgent(DB_FILES);
    await(() -> Files.exists(out.resolve("..data")));
    String firstData = dataTarget();

    List<String> seen = new CopyOnWriteArrayList<>();
    AtomicBoolean reading = new AtomicBoolean(true);
    Thread reader =
        new Thread(
            () -> {
              // Reads both files through one resolution of ..data, as an app that opens them one
              // after the other would.
              while (reading.get()) {
                try {
                  Path data = out.resolve(Files.readSymbolicLink(out.resolve("..data")));
                  seen.add(
                      Files.readString(data.resolve("password"))
                          + " / "
                          + Files.readString(data.resolve("db.env")));
                } catch (NoSuchFileException e) {
                  // the old directory was removed between the two reads: the next loop reads the
                  // new one
                } catch (IOException e) {
                  seen.add("error " + e);
                }
              }
            });
    reader.start();
    server.put("db", db("two"));
    await(() -> readOrEmpty(out.resolve("password")).equals("two"));
    // The line is logged once the swap is done and the old directory removed.
    await(() -> !logLines("secret db changed to version v2; rewrote 2 files").isEmpty());
    await(() -> !seen.isEmpty());
    reading.set(false);
    reader.join();

    assertThat(out.resolve("db.env")).hasContent("USER='app'\nPASSWORD='two'\n");
    assertThat(dataTarget()).isNotEqualTo(firstData);
    assertThat(timestampDirs()).containsExactly(dataTarget());
    assertThat(seen)
        .isNotEmpty()
        .allMatch(
            state ->
                state.equals("one / USER='app'\nPASSWORD='one'\n")
                    || state.equals("two / USER='app'\nPASSWORD='two'\n"));
    assertThat(logLines("secret db changed to version v2; rewrote 2 files")).hasSize(1);
  }

  @Test
  void apiDownOrGoneKeepsTheLastGoodFiles() throws Exception {
    server.put("db", db("one"));
    startAgent(DB_FILES);
    await(() -> Files.exists(out.resolve("..data")));
    String data = dataTarget();

    server.setDown(true);
    await(() -> server.requests().stream().filter(request -> request.status() == 503).count() >= 2);
    assertThat(dataTarget()).isEqualTo(data);
    assertThat(out.resolve("password")).hasContent("one");

    server.close();
    await(() -> logLines("ConnectException").size() >= 1);
    assertThat(dataTarget()).isEqualTo(data);
    assertThat(out.resolve("password")).hasContent("one");
    assertThat(out.resolve("db.env")).hasContent("USER='app'\nPASSWORD='one'\n");
    assertThat(logLines("files kept, retrying in")).isNotEmpty();
    assertThat(logged.toString(StandardCharsets.UTF_8)).doesNotContain("token-1");
  }

  @Test
  void recoversWhenTheApiComesBack() throws Exception {
    server.put("db", db("one"));
    server.setDown(true);
    startAgent(DB_FILES);
    await(() -> server.requests().size() >= 2);
    assertThat(out).isEmptyDirectory();

    server.setDown(false);
    await(() -> readOrEmpty(out.resolve("password")).equals("one"));
  }

  @Test
  void aRotatedTokenIsUsedFromTheNextRequestOn() throws Exception {
    server.put("db", db("one"));
    startAgent(DB_FILES);
    await(() -> Files.exists(out.resolve("..data")));

    // kubelet's renewal leaves the old token valid until it expires, and a request read with it
    // may be on its way while the file changes (refusing it raced the agent's long-poll in CI).
    server.expectToken("token-1", "token-2");
    Files.writeString(tokenFile, "token-2");
    await(
        () ->
            server.requests().stream()
                .anyMatch(request -> "Bearer token-2".equals(request.authorization())));
    // One watcher sends one request at a time, each with the file's token of its time: from its
    // first request with the new token on, the old one is never sent again.
    server.expectToken("token-2");
    server.put("db", db("two"));

    await(() -> readOrEmpty(out.resolve("password")).equals("two"));
    assertThat(server.requests()).noneMatch(request -> request.status() == 401);
  }

  @Test
  void aLongPollEndingWith304IsRepeatedWithTheSameVersionAndWritesNothing() throws Exception {
    String version = server.put("db", db("one"));
    startAgent(DB_FILES, "KEYWARDEN_ON_CHANGE", "exec:echo changed >> " + dir.resolve("hook"));
    await(() -> Files.exists(out.resolve("..data")));
    String data = dataTarget();

    await(() -> server.requests().stream().filter(request -> request.status() == 304).count() >= 2);

    assertThat(server.requests())
        .filteredOn(FakeSecretApi.Request::isLongPoll)
        .allMatch(
            request ->
                request.query().get("waitForChange").equals(version)
                    && request.query().get("timeoutSeconds").equals("1"));
    assertThat(dataTarget()).isEqualTo(data);
    assertThat(dir.resolve("hook")).doesNotExist();
    assertThat(logLines("WARN")).isEmpty();
  }

  @Test
  void retryAfterIsHonoured() throws Exception {
    server.put("db", db("one"));
    server.failNext(1, 429, "ThrottlingException", "2");

    startAgent(DB_FILES);
    await(() -> Files.exists(out.resolve("..data")));

    List<FakeSecretApi.Request> requests = server.requests();
    assertThat(requests.get(0).status()).isEqualTo(429);
    assertThat(Duration.ofNanos(requests.get(1).nanoTime() - requests.get(0).nanoTime()))
        .isGreaterThanOrEqualTo(Duration.ofMillis(2000));
    assertThat(logLines("429 ThrottlingException")).hasSize(1);
  }

  @Test
  void onChangeRunsAfterEachChangeButNotAfterTheFirstWrite() throws Exception {
    Path hook = dir.resolve("hook");
    server.put("db", db("one"));
    startAgent(
        DB_FILES,
        "KEYWARDEN_ON_CHANGE",
        "exec:cat " + out.resolve("password") + " >> " + hook + "; echo >> " + hook);
    await(() -> Files.exists(out.resolve("..data")));
    Thread.sleep(300);
    assertThat(hook).doesNotExist();

    server.put("db", db("two"));
    await(() -> readOrEmpty(hook).equals("two\n"));
    server.put("db", db("three"));
    await(() -> readOrEmpty(hook).equals("two\nthree\n"));
  }

  @Test
  void aValueThatDoesNotRenderKeepsTheFilesAndTheNextGoodOneIsWritten() throws Exception {
    server.put("db", db("one"));
    startAgent(DB_FILES);
    await(() -> Files.exists(out.resolve("..data")));

    server.put("db", "hunter2, not JSON");
    await(
        () ->
            !logLines("ERROR file password (secret db): key password needs a JSON secret")
                .isEmpty());
    assertThat(out.resolve("password")).hasContent("one");
    assertThat(logged.toString(StandardCharsets.UTF_8)).doesNotContain("hunter2");

    server.put("db", db("three"));
    await(() -> readOrEmpty(out.resolve("password")).equals("three"));
  }

  @Test
  void intervalRefreshPollsWithoutLongPolling() throws Exception {
    server.put("db", db("one"));
    startAgent(DB_FILES, "KEYWARDEN_REFRESH", "1s");
    await(() -> Files.exists(out.resolve("..data")));

    server.put("db", db("two"));
    await(() -> readOrEmpty(out.resolve("password")).equals("two"));

    assertThat(server.requests()).noneMatch(FakeSecretApi.Request::isLongPoll);
    List<FakeSecretApi.Request> requests = server.requests();
    assertThat(Duration.ofNanos(requests.get(1).nanoTime() - requests.get(0).nanoTime()))
        .isGreaterThanOrEqualTo(Duration.ofMillis(900));
  }

  @Test
  void refreshNoneFetchesOnceAndStaysUp() throws Exception {
    server.put("db", db("one"));
    startAgent(DB_FILES, "KEYWARDEN_REFRESH", "none");
    await(() -> Files.exists(out.resolve("..data")));
    server.put("db", db("two"));

    Thread.sleep(1500);

    assertThat(server.requests()).hasSize(1);
    assertThat(out.resolve("password")).hasContent("one");
  }

  @Test
  void distinctStagesOfOneSecretAreWatchedSeparately() throws Exception {
    server.put("db", db("one"));
    server.put("db", db("two"));
    startAgent(
        "[{\"file\":\"current\",\"secret\":\"db\",\"key\":\"password\"},"
            + "{\"file\":\"previous\",\"secret\":\"db\",\"key\":\"password\",\"stage\":\"PREVIOUS\"}]");
    await(() -> Files.exists(out.resolve("..data")));
    assertThat(out.resolve("current")).hasContent("two");
    assertThat(out.resolve("previous")).hasContent("one");

    server.put("db", db("three"));
    await(() -> readOrEmpty(out.resolve("previous")).equals("two"));
    await(() -> readOrEmpty(out.resolve("current")).equals("three"));
  }

  private String dataTarget() throws IOException {
    return Files.readSymbolicLink(out.resolve("..data")).toString();
  }

  private List<String> timestampDirs() throws IOException {
    try (Stream<Path> list = Files.list(out)) {
      return list.map(path -> path.getFileName().toString())
          .filter(name -> name.startsWith("..") && !name.equals("..data"))
          .toList();
    }
  }

  private List<String> logLines(String containing) {
    return logged
        .toString(StandardCharsets.UTF_8)
        .lines()
        .filter(line -> line.contains(containing))
        .toList();
  }

  private static String readOrEmpty(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "";
    }
  }

  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 20 s");
      }
      Thread.sleep(10);
    }
  }
}
