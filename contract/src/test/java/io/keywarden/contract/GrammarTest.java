package io.keywarden.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The one grammar of each value the injector hands the agent: what it accepts, and its text. */
class GrammarTest {

  @ParameterizedTest(name = "file mode {0} is {1} and renders as {2}")
  @CsvSource({
    "0644, 420, 0644",
    "0400, 256, 0400",
    "0440, 288, 0440",
    "0777, 511, 0777",
    "0600, 384, 0600"
  })
  void fileModes(String text, int mode, String rendered) {
    assertThat(FileMode.parse(text)).isEqualTo(mode);
    assertThat(FileMode.render(mode)).isEqualTo(rendered);
    assertThat(FileMode.parse(FileMode.render(mode))).isEqualTo(mode);
  }

  @ParameterizedTest(name = "file mode ''{0}'' is refused")
  @ValueSource(
      strings = {
        "", "1644", "4755", "00644", "64", "644", "420", "0844", "0o644", "0044", "0200", " 0644"
      })
  void badFileModes(String text) {
    assertThatThrownBy(() -> FileMode.parse(text))
        .isInstanceOf(GrammarException.class)
        .hasMessageStartingWith("file mode '" + text + "'");
  }

  @ParameterizedTest(name = "refresh {0} is every {1} s and renders as {2}")
  @CsvSource({
    "30s, 30, 30s",
    "5m, 300, 5m",
    "1h, 3600, 1h",
    "1h30m, 5400, 1h30m",
    "90s, 90, 1m30s",
    "1h0m5s, 3605, 1h5s",
    "0h1s, 1, 1s",
    "999999h, 3599996400, 999999h"
  })
  void intervals(String text, long seconds, String rendered) {
    Refresh refresh = Refresh.parse(text);
    assertThat(refresh).isEqualTo(new Refresh.Every(Duration.ofSeconds(seconds)));
    assertThat(Refresh.render(refresh)).isEqualTo(rendered);
    assertThat(Refresh.parse(Refresh.render(refresh))).isEqualTo(refresh);
  }

  @ParameterizedTest(name = "refresh {0} is a mode")
  @CsvSource({"watch", "none"})
  void modes(String text) {
    assertThat(Refresh.render(Refresh.parse(text))).isEqualTo(text);
  }

  @ParameterizedTest(name = "refresh ''{0}'' is refused")
  @ValueSource(
      strings = {
        "",
        "0s",
        "0h0m0s",
        "30",
        "s",
        "1d",
        "500ms",
        "1.5h",
        "30m1h",
        "5s5s",
        "-5s",
        "1000000s",
        "Watch",
        "1h 30m",
        "30S"
      })
  void badIntervals(String text) {
    assertThatThrownBy(() -> Refresh.parse(text))
        .isInstanceOf(GrammarException.class)
        .hasMessageStartingWith("refresh '" + text + "'");
  }

  @ParameterizedTest(name = "on-change {0}")
  @CsvSource({
    "signal:SIGHUP, HUP",
    "signal:SIGINT, INT",
    "signal:SIGQUIT, QUIT",
    "signal:SIGTERM, TERM",
    "signal:SIGUSR1, USR1",
    "signal:SIGUSR2, USR2",
    "signal:SIGWINCH, WINCH"
  })
  void signals(String text, Signal signal) {
    OnChange parsed = OnChange.parse(text);
    assertThat(parsed).isEqualTo(new OnChange.SendSignal(signal));
    assertThat(OnChange.render(parsed)).isEqualTo(text);
  }

  @ParameterizedTest(name = "on-change ''{0}'' is refused")
  @ValueSource(
      strings = {
        "signal:HUP",
        "signal:sighup",
        "signal:SIGKILL",
        "signal:SIGSTOP",
        "signal:",
        "signal:1",
        "exec:",
        "exec:   ",
        "exec:a\nb",
        "exec:a\u0000b",
        "kill:SIGHUP",
        "",
        "SIGHUP"
      })
  void badOnChange(String text) {
    assertThatThrownBy(() -> OnChange.parse(text))
        .isInstanceOf(GrammarException.class)
        .hasMessageStartingWith("on-change");
  }

  @ParameterizedTest(name = "exec command ''{0}'' is kept as written")
  @ValueSource(strings = {"nginx -s reload", " kill -HUP 1 ", "sh -c 'echo $X > /tmp/y'"})
  void execCommands(String command) {
    OnChange parsed = OnChange.parse("exec:" + command);
    assertThat(parsed).isEqualTo(new OnChange.Exec(command));
    assertThat(OnChange.render(parsed)).isEqualTo("exec:" + command);
    assertThat(parsed.toString()).doesNotContain(command.strip());
  }

  @ParameterizedTest(name = "format {0}")
  @ValueSource(strings = {"raw", "json", "env", "properties"})
  void formats(String text) {
    assertThat(Format.parse(text).configName()).isEqualTo(text);
  }

  @ParameterizedTest(name = "format ''{0}'' is refused")
  @ValueSource(strings = {"RAW", "yaml", "", "Json"})
  void badFormats(String text) {
    assertThatThrownBy(() -> Format.parse(text)).isInstanceOf(GrammarException.class);
  }

  @ParameterizedTest(name = "stage ''{0}'' is refused")
  @ValueSource(strings = {"current", "AWSCURRENT", "", "LATEST"})
  void badStages(String text) {
    assertThatThrownBy(() -> Stage.parse(text)).isInstanceOf(GrammarException.class);
  }

  @org.junit.jupiter.api.Test
  void filesRenderAsAsciiJsonInFieldOrder() {
    String json =
        FileEntry.render(
            List.of(
                new FileEntry("db", "db-password", null, Format.RAW, Stage.CURRENT),
                new FileEntry("cfg", "app", "k\"\\é\u2028\n", Format.ENV, Stage.PREVIOUS)));
    assertThat(json)
        .isEqualTo(
            "[{\"file\":\"db\",\"secret\":\"db-password\",\"key\":null,\"format\":\"raw\","
                + "\"stage\":\"CURRENT\"},{\"file\":\"cfg\",\"secret\":\"app\","
                + "\"key\":\"k\\\"\\\\\\u00e9\\u2028\\u000a\",\"format\":\"env\","
                + "\"stage\":\"PREVIOUS\"}]");
  }

  @org.junit.jupiter.api.Test
  void quotedValuesAreShortAndOnOneLine() {
    assertThatThrownBy(() -> FileMode.parse("x\n".repeat(50)))
        .hasMessageNotContaining("\n")
        .hasMessageContaining("...'");
  }

  @ParameterizedTest(name = "flag {0} is {1}")
  @CsvSource({"true, true", "false, false"})
  void flags(String text, boolean value) {
    assertThat(Flag.parse(text)).isEqualTo(value);
  }

  @ParameterizedTest(name = "flag ''{0}'' is refused")
  @ValueSource(strings = {"", "True", "yes", "1", "on", " true"})
  void badFlags(String text) {
    assertThatThrownBy(() -> Flag.parse(text))
        .isInstanceOf(GrammarException.class)
        .hasMessage("value '" + text + "' must be true or false");
  }

  @ParameterizedTest(name = "endpoint port {0}")
  @ValueSource(ints = {1024, 2773, 8080, 65535})
  void endpointPorts(int port) {
    assertThat(EndpointPort.parse(Integer.toString(port))).isEqualTo(port);
  }

  @ParameterizedTest(name = "endpoint port ''{0}'' is refused")
  @ValueSource(strings = {"", "0", "80", "1023", "65536", "99999", "02773", "+2773", "2773 ", "x"})
  void badEndpointPorts(String text) {
    assertThatThrownBy(() -> EndpointPort.parse(text))
        .isInstanceOf(GrammarException.class)
        .hasMessageStartingWith("port '" + text + "' must be a number from 1024 to 65535");
  }

  @ParameterizedTest(name = "region {0}")
  @ValueSource(strings = {"us-east-1", "eu-central-2", "us-gov-west-1", "il-central-1", "local"})
  void regions(String text) {
    assertThat(AwsRegion.parse(text)).isEqualTo(text);
  }

  @ParameterizedTest(name = "region ''{0}'' is refused")
  @ValueSource(
      strings = {"", "US-EAST-1", "us_east_1", "-us-east-1", "us-east-", "us--east-1", "1us"})
  void badRegions(String text) {
    assertThatThrownBy(() -> AwsRegion.parse(text))
        .isInstanceOf(GrammarException.class)
        .hasMessageStartingWith("region '" + text + "' must be an AWS region name");
  }
}
