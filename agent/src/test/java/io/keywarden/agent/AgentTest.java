package io.keywarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class AgentTest {

  @Test
  void saysItIsNotWiredYetAndExitsWithUsageError() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int exit = Agent.run(new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("keywarden-agent ").contains("Usage: keywarden-agent");
  }
}
