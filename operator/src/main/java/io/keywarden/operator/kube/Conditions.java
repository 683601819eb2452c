package io.keywarden.operator.kube;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/** Sets conditions the Kubernetes way: lastTransitionTime moves only when the status flips. */
public final class Conditions {

  private Conditions() {}

  public static void set(
      List<Condition> conditions,
      String type,
      boolean status,
      String reason,
      String message,
      Long observedGeneration) {
    String value = status ? "True" : "False";
    Condition existing =
        conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    String transition =
        existing != null && value.equals(existing.getStatus())
            ? existing.getLastTransitionTime()
            : Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    Condition condition =
        new ConditionBuilder()
            .withType(type)
            .withStatus(value)
            .withReason(reason)
            .withMessage(message)
            .withObservedGeneration(observedGeneration)
            .withLastTransitionTime(transition)
            .build();
    conditions.removeIf(c -> type.equals(c.getType()));
    conditions.add(condition);
    conditions.sort(java.util.Comparator.comparing(Condition::getType));
  }

  public static boolean isTrue(List<Condition> conditions, String type) {
    return conditions.stream()
        .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }
}
