package io.keywarden.operator.rotationschedule;

import io.javaoperatorsdk.operator.Operator;
import io.keywarden.api.v1alpha1.RotationSchedule;
import io.keywarden.api.v1alpha1.RotationScheduleStatus;
import io.keywarden.api.v1alpha1.RotationScheduleStatus.RotationResult;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.metrics.ControllerCaches;
import io.keywarden.operator.metrics.ScrapeTimeMetrics;
import io.keywarden.operator.rotation.schedule.ScheduleParser;
import io.keywarden.operator.rotation.schedule.Window;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;

/**
 * Per RotationSchedule, read from its status in the controller's cache at scrape time: its last
 * result (one series per possible result, 1 for the current one, as kube-state-metrics does for
 * phases) and when it finished; and per target ManagedSecret the rotation deadline, the next
 * rotation plus the schedule's window, after which the secret is overdue (none while the schedule
 * is suspended).
 */
@ApplicationScoped
public class RotationScheduleMetrics {

  static final String LAST_RESULT = "keywarden_rotationschedule_last_result";
  static final String LAST_RESULT_TIME = "keywarden_rotationschedule_last_result_timestamp_seconds";
  static final String DEADLINE = "keywarden_managedsecret_rotation_deadline_timestamp_seconds";

  void register(
      @Observes StartupEvent event,
      MeterRegistry registry,
      Operator operator,
      KeywardenConfig config) {
    Duration minimumInterval = config.rotation().minimumInterval();
    ScrapeTimeMetrics.register(
        registry,
        "rotationschedule",
        families -> {
          families
              .gauge(
                  LAST_RESULT,
                  "1 for the result of the schedule's last rotation (status.lastResult)",
                  "namespace",
                  "name",
                  "result")
              .gauge(LAST_RESULT_TIME, "When the last rotation finished", "namespace", "name")
              .gauge(
                  DEADLINE,
                  "Next scheduled rotation of a target plus the schedule's window",
                  "namespace",
                  "name",
                  "schedule");
          ControllerCaches.primaries(operator, "rotationschedule", RotationSchedule.class)
              .forEach(
                  rs -> {
                    RotationScheduleStatus status = rs.getStatus();
                    if (status == null) {
                      return;
                    }
                    String ns = rs.getMetadata().getNamespace();
                    String name = rs.getMetadata().getName();
                    RotationResult last = status.getLastResult();
                    if (last != null && last.getResult() != null) {
                      for (RotationResult.Result result : RotationResult.Result.values()) {
                        families.add(
                            LAST_RESULT,
                            result == last.getResult() ? 1 : 0,
                            ns,
                            name,
                            result.name());
                      }
                      ScrapeTimeMetrics.epochSeconds(last.getFinishedAt())
                          .ifPresent(t -> families.add(LAST_RESULT_TIME, t, ns, name));
                    }
                    if (Boolean.TRUE.equals(rs.getSpec().getSuspend())) {
                      // A suspended schedule keeps its targets' next times but owes no rotation.
                      return;
                    }
                    double window = windowSeconds(rs, minimumInterval);
                    for (RotationScheduleStatus.TargetStatus target : status.getSecrets()) {
                      ScrapeTimeMetrics.epochSeconds(target.getNextRotationTime())
                          .ifPresent(
                              next ->
                                  families.add(
                                      DEADLINE, next + window, ns, target.getName(), name));
                    }
                  });
        });
  }

  /** The schedule's window; zero when absent or invalid (the schedule is then not Ready anyway). */
  private static double windowSeconds(RotationSchedule rs, Duration minimumInterval) {
    try {
      return Window.parse(
              rs.getSpec().getWindow(),
              ScheduleParser.parse(rs.getSpec().getSchedule(), minimumInterval))
          .length()
          .toSeconds();
    } catch (IllegalArgumentException e) {
      // InvalidScheduleException is one.
      return 0;
    }
  }
}
