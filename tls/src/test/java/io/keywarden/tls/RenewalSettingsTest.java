package io.keywarden.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RenewalSettingsTest {

  private static final Duration DAY = Duration.ofDays(1);

  static Stream<Arguments> refused() {
    return Stream.of(
        arguments("zero validity", Duration.ZERO, DAY.multipliedBy(9), DAY, DAY, "p.validity"),
        arguments(
            "negative renew-before",
            DAY.multipliedBy(2),
            DAY.multipliedBy(9),
            DAY.negated(),
            DAY,
            "p.renew-before"),
        arguments(
            "negative overlap",
            DAY.multipliedBy(2),
            DAY.multipliedBy(9),
            DAY,
            DAY.negated(),
            "p.ca-overlap"),
        arguments(
            "renew-before as long as the validity",
            DAY,
            DAY.multipliedBy(9),
            DAY,
            DAY,
            "p.renew-before (PT24H) must be shorter than p.validity"),
        arguments(
            "CA too short for one full cycle",
            DAY.multipliedBy(2),
            DAY.multipliedBy(4),
            DAY,
            DAY,
            "p.ca-validity (PT96H) must be longer than"),
        arguments(
            "CA too short for its successor's overlap",
            DAY.multipliedBy(2),
            DAY.multipliedBy(5),
            DAY,
            DAY,
            "validity + renew-before + 2 × ca-overlap (PT120H)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void refusesNamingTheProperty(
      String name,
      Duration validity,
      Duration caValidity,
      Duration renewBefore,
      Duration overlap,
      String message) {
    assertThatThrownBy(() -> RenewalSettings.of("p", validity, caValidity, renewBefore, overlap))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void defaultsAndShortTestLifetimesAreAccepted() {
    RenewalSettings defaults = RenewalSettings.DEFAULTS;
    assertThat(
            RenewalSettings.of(
                "p",
                defaults.validity(),
                defaults.caValidity(),
                defaults.renewBefore(),
                defaults.caOverlap()))
        .isEqualTo(defaults);
    assertThat(
            RenewalSettings.of(
                    "p",
                    Duration.ofSeconds(8),
                    Duration.ofDays(1825),
                    Duration.ofSeconds(4),
                    Duration.ZERO)
                .validity())
        .isEqualTo(Duration.ofSeconds(8));
  }
}
