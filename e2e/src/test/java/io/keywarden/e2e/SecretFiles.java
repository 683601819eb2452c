package io.keywarden.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * Watches the agent's output directory the way an application reads it, sampling about every 0.2 ms
 * on a thread of its own: each sample resolves {@code ..data} once and reads every file of that one
 * directory, which is what "all files of a change switch together" promises a reader. A sample is
 * kept when it differs from the previous one, with the time it was first seen.
 */
final class SecretFiles implements AutoCloseable {

  /** The files behind one resolution of {@code ..data}. */
  record Snapshot(long nanoTime, String dataDir, Map<String, String> files) {}

  private final Path dir;
  private final List<String> names;
  private final List<Snapshot> seen = new ArrayList<>();
  private final Thread thread;
  private volatile boolean running = true;

  SecretFiles(Path dir, List<String> names) {
    this.dir = dir;
    this.names = List.copyOf(names);
    this.thread = new Thread(this::sample, "secret-files-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  private void sample() {
    while (running) {
      try {
        Path dataDir = dir.resolve(Files.readSymbolicLink(dir.resolve("..data")));
        Map<String, String> files = new LinkedHashMap<>();
        for (String name : names) {
          files.put(name, Files.readString(dataDir.resolve(name), StandardCharsets.UTF_8));
        }
        record(new Snapshot(System.nanoTime(), dataDir.getFileName().toString(), files));
      } catch (NoSuchFileException e) {
        // Not written yet, or the writer removed the old directory while we read it: sample again.
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      LockSupport.parkNanos(200_000);
    }
  }

  private synchronized void record(Snapshot snapshot) {
    Snapshot last = seen.isEmpty() ? null : seen.get(seen.size() - 1);
    if (last == null
        || !last.dataDir().equals(snapshot.dataDir())
        || !last.files().equals(snapshot.files())) {
      seen.add(snapshot);
    }
  }

  /** Every distinct state seen so far, in order. */
  synchronized List<Snapshot> history() {
    return List.copyOf(seen);
  }

  /** The states first seen after {@code nanoTime}. */
  synchronized List<Snapshot> since(long nanoTime) {
    return seen.stream().filter(s -> s.nanoTime() > nanoTime).toList();
  }

  synchronized Snapshot latest() {
    return seen.isEmpty() ? null : seen.get(seen.size() - 1);
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(5000);
  }
}
