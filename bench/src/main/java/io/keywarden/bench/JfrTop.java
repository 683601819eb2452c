package io.keywarden.bench;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * A cheap hot-spot summary of a JFR recording (JDK 17 has no {@code jfr view}): CPU samples by
 * thread group, by top frame (self time) and by method anywhere on the stack (inclusive), plus
 * contended monitors, garbage collections, sampled allocation. Usage: {@code JfrTop recording.jfr
 * [rows=25] [class.method]}: with a method, also what it calls directly.
 */
public final class JfrTop {

  private JfrTop() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int rows = args.length > 1 ? Integer.parseInt(args[1]) : 25;
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> inclusive = new HashMap<>();
    Map<String, Integer> threads = new HashMap<>();
    Map<String, Integer> selfPackage = new HashMap<>();
    Map<String, Long> monitors = new HashMap<>();
    Map<String, Long> allocations = new HashMap<>();
    Map<String, Integer> gcCount = new HashMap<>();
    Map<String, Long> gcPause = new HashMap<>();
    Map<String, Long> gcLongest = new HashMap<>();
    java.time.Instant first = null;
    java.time.Instant last = null;
    int samples = 0;
    String focus = args.length > 2 ? args[2] : null;
    Map<String, Integer> callees = new HashMap<>();
    int focusSamples = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
      String type = e.getEventType().getName();
      RecordedStackTrace stack = e.getStackTrace();
      if (type.equals("jdk.ExecutionSample") && stack != null && !stack.getFrames().isEmpty()) {
        samples++;
        List<RecordedFrame> frames = stack.getFrames();
        self.merge(frame(frames.get(0)), 1, Integer::sum);
        selfPackage.merge(pkg(frames.get(0)), 1, Integer::sum);
        Set<String> seen = new HashSet<>();
        for (RecordedFrame f : frames) {
          String m = method(f);
          if (seen.add(m)) {
            inclusive.merge(m, 1, Integer::sum);
          }
        }
        if (focus != null) {
          for (int i = frames.size() - 1; i > 0; i--) {
            if (method(frames.get(i)).equals(focus)) {
              callees.merge(method(frames.get(i - 1)), 1, Integer::sum);
              focusSamples++;
              break;
            }
          }
        }
        String thread =
            e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
        threads.merge(
            thread == null
                ? "?"
                : thread.replaceAll("[-#]?[0-9]+$", "-N").replaceAll("[0-9]+", "N"),
            1,
            Integer::sum);
      } else if (type.equals("jdk.JavaMonitorEnter")
          && stack != null
          && !stack.getFrames().isEmpty()) {
        String key =
            e.getClass("monitorClass").getName() + " at " + frame(stack.getFrames().get(0));
        monitors.merge(key, e.getDuration().toNanos(), Long::sum);
      } else if (type.equals("jdk.GarbageCollection")) {
        String name = e.getString("name");
        gcCount.merge(name, 1, Integer::sum);
        gcPause.merge(name, e.getDuration("sumOfPauses").toNanos(), Long::sum);
        gcLongest.merge(name, e.getDuration("longestPause").toNanos(), Math::max);
        if (first == null || e.getStartTime().isBefore(first)) {
          first = e.getStartTime();
        }
        if (last == null || e.getEndTime().isAfter(last)) {
          last = e.getEndTime();
        }
      } else if ((type.equals("jdk.ObjectAllocationSample"))
          && stack != null
          && !stack.getFrames().isEmpty()) {
        String key =
            e.getClass("objectClass").getName()
                + " from "
                + firstApplicationFrame(stack.getFrames());
        allocations.merge(key, e.getLong("weight"), Long::sum);
      }
    }
    System.out.printf("%d CPU samples in %s%n", samples, file);
    print("threads (share of CPU samples)", threads, samples, rows);
    print("top frame (self), by package", selfPackage, samples, rows);
    print("top frame (self)", self, samples, rows);
    print("on the stack (inclusive)", inclusive, samples, rows * 2);
    if (focus != null) {
      print(
          "direct callees of " + focus + " (" + focusSamples + " samples; share of all samples)",
          callees,
          samples,
          rows);
    }
    System.out.println("\ngarbage collections");
    gcCount.forEach(
        (name, n) ->
            System.out.printf(
                "  %-24s %5d collections, pauses %.0f ms in all, longest %.1f ms%n",
                name, n, gcPause.get(name) / 1e6, gcLongest.get(name) / 1e6));
    if (first != null) {
      System.out.printf(
          "  (first to last collection: %.1f s)%n",
          java.time.Duration.between(first, last).toMillis() / 1000.0);
    }
    System.out.println("\ncontended monitors (total blocked time)");
    monitors.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(rows)
        .forEach(en -> System.out.printf("  %10.1f ms  %s%n", en.getValue() / 1e6, en.getKey()));
    long allocTotal = allocations.values().stream().mapToLong(Long::longValue).sum();
    System.out.printf("%nallocation (sampled weight, %.0f MiB in all)%n", allocTotal / 1048576.0);
    allocations.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(rows)
        .forEach(
            en ->
                System.out.printf(
                    "  %5.1f%%  %s%n",
                    100.0 * en.getValue() / Math.max(1, allocTotal), en.getKey()));
  }

  private static void print(String title, Map<String, Integer> counts, int total, int rows) {
    System.out.printf("%n%s%n", title);
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(rows)
        .forEach(
            en ->
                System.out.printf(
                    "  %5.1f%%  %s%n", 100.0 * en.getValue() / Math.max(1, total), en.getKey()));
  }

  private static String method(RecordedFrame f) {
    return f.getMethod().getType().getName() + "." + f.getMethod().getName();
  }

  private static String frame(RecordedFrame f) {
    return method(f) + ":" + f.getLineNumber();
  }

  private static String pkg(RecordedFrame f) {
    String type = f.getMethod().getType().getName();
    String[] parts = type.split("\\.");
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < Math.min(3, parts.length - 1); i++) {
      b.append(i == 0 ? "" : ".").append(parts[i]);
    }
    return b.toString();
  }

  private static String firstApplicationFrame(List<RecordedFrame> frames) {
    for (RecordedFrame f : frames) {
      String type = f.getMethod().getType().getName();
      if (!type.startsWith("java.") && !type.startsWith("jdk.") && !type.startsWith("sun.")) {
        return frame(f);
      }
    }
    return frame(frames.get(0));
  }
}
