package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Audit lines are written by a thread of their own, in order, and none is lost when it lags. */
class AuditLogTest {

  private final ObjectMapper json = new ObjectMapper();
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final List<String> writers = new CopyOnWriteArrayList<>();
  private final CountDownLatch writerMayGo = new CountDownLatch(1);
  private final CountDownLatch writerInHandler = new CountDownLatch(1);
  private final Logger logger = Logger.getLogger("keywarden.audit");
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          if (Thread.currentThread().getName().equals("keywarden-audit")) {
            writerInHandler.countDown();
            try {
              writerMayGo.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          lines.add(record.getMessage());
          writers.add(Thread.currentThread().getName());
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void attach() {
    logger.addHandler(capture);
  }

  @AfterEach
  void detach() {
    logger.removeHandler(capture);
  }

  @Test
  void linesAreWrittenOffTheCallingThreadAsJson() throws Exception {
    writerMayGo.countDown();
    AuditLog audit = new AuditLog(json, 100);
    for (int i = 0; i < 50; i++) {
      audit.record(entry("r" + i));
    }
    audit.close();

    assertThat(lines).hasSize(50);
    assertThat(writers).containsOnly("keywarden-audit");
    JsonNode first = json.readTree(lines.get(0));
    assertThat(first.get("requestId").asText()).isEqualTo("r0");
    assertThat(first.get("audit").asText()).isEqualTo("keywarden.io/v1");
    assertThat(first.get("subject").asText()).isEqualTo("system:serviceaccount:ns:app");
    assertThat(first.get("versionId").isNull()).isTrue();
    assertThat(first.get("status").asInt()).isEqualTo(200);
    assertThat(first.get("latencyMs").asDouble()).isEqualTo(1.235);
    assertThat(first.get("time").asText()).isNotBlank();
    assertThat(lines.stream().map(l -> readId(l)).toList())
        .containsExactlyElementsOf(
            java.util.stream.IntStream.range(0, 50).mapToObj(i -> "r" + i).toList());
    assertThat(audit.writtenByCaller()).isZero();
  }

  @Test
  void linesRecordedWhileTheWriterGathersAreWrittenWithoutAnotherRecordOrClose() throws Exception {
    writerMayGo.countDown();
    AuditLog audit = new AuditLog(json, 100);
    audit.record(entry("lone"));
    awaitLines(1); // an idle writer writes a lone line without waiting for more
    for (int i = 0; i < 3; i++) {
      audit.record(entry("r" + i)); // the writer is likely in its 2 ms pause after "lone"
    }
    awaitLines(4);

    assertThat(lines.stream().map(AuditLogTest::readId)).containsExactly("lone", "r0", "r1", "r2");
    audit.close();
  }

  private void awaitLines(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (lines.size() < count && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertThat(lines).hasSize(count);
  }

  @Test
  void aFullQueueMakesTheCallerWriteItsLineInsteadOfDroppingIt() throws Exception {
    AuditLog audit = new AuditLog(json, 2);
    audit.record(entry("taken")); // the writer takes it and blocks in the handler
    // In the handler, not merely out of the queue: between the two the writer still drains what
    // is queued into its batch.
    assertThat(writerInHandler.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(audit.queued()).isZero();
    audit.record(entry("queued-1"));
    audit.record(entry("queued-2"));
    audit.record(entry("overflow")); // queue full: written here, on the test thread

    assertThat(audit.writtenByCaller()).isEqualTo(1);
    assertThat(lines).hasSize(1);
    assertThat(readId(lines.get(0))).isEqualTo("overflow");
    assertThat(writers.get(0)).isEqualTo(Thread.currentThread().getName());

    writerMayGo.countDown();
    audit.close();
    assertThat(lines.stream().map(AuditLogTest::readId))
        .containsExactlyInAnyOrder("taken", "queued-1", "queued-2", "overflow");
  }

  private static String readId(String line) {
    try {
      return new ObjectMapper().readTree(line).get("requestId").asText();
    } catch (Exception e) {
      throw new AssertionError(line, e);
    }
  }

  private static AuditLog.Entry entry(String id) {
    return new AuditLog.Entry(
        id,
        "system:serviceaccount:ns:app",
        "ns",
        "db",
        null,
        "GetSecretValue",
        true,
        "allowed by RBAC",
        200,
        1.23456,
        "127.0.0.1");
  }
}
