package io.keywarden.e2e;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;

/**
 * What an app container printed, as kubelet serves it ({@code kubectl logs --timestamps}): each
 * line with the time containerd received it, which is the time the app read what it printed.
 */
final class AppLog {

  /** One printed line and when the container runtime received it. */
  record Line(Instant time, String text) {
    /** The words of the line after its first word (the line's kind). */
    String[] fields() {
      return text.split(" ");
    }
  }

  private final KubernetesClient client;
  private final String namespace;
  private final String pod;
  private final String container;

  AppLog(KubernetesClient client, String namespace, String pod, String container) {
    this.client = client;
    this.namespace = namespace;
    this.pod = pod;
    this.container = container;
  }

  List<Line> lines() {
    String log =
        client
            .pods()
            .inNamespace(namespace)
            .withName(pod)
            .inContainer(container)
            .usingTimestamps()
            .getLog();
    return log.lines()
        .filter(l -> l.indexOf(' ') > 0)
        .map(
            l ->
                new Line(
                    Instant.parse(l.substring(0, l.indexOf(' '))), l.substring(l.indexOf(' ') + 1)))
        .toList();
  }

  /** The lines starting with {@code kind + " "}. */
  List<Line> lines(String kind) {
    return lines().stream().filter(l -> l.text().startsWith(kind + " ")).toList();
  }

  /** Waits for the first line of {@code kind} that matches, polling the log. */
  Line await(String kind, Predicate<Line> matches, Duration atMost) {
    return await(kind, 0, matches, atMost);
  }

  /** Waits for the first line of {@code kind} after the first {@code skip} that matches. */
  Line await(String kind, int skip, Predicate<Line> matches, Duration atMost) {
    return org.awaitility.Awaitility.await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> lines(kind).stream().skip(skip).filter(matches).findFirst().orElse(null),
            l -> l != null);
  }
}
