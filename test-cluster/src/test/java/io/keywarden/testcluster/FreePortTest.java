package io.keywarden.testcluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class FreePortTest {

  @Test
  void portsComeFromBelowTheEphemeralAndNodePortRangesAndCanBeBound() throws IOException {
    int ephemeral = QuarkusProcess.ephemeralRangeStart();
    assertThat(ephemeral).isGreaterThan(20_001);
    for (int i = 0; i < 50; i++) {
      int port = QuarkusProcess.freePort();
      assertThat(port).isBetween(20_000, Math.min(ephemeral, 30_000) - 1);
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress(port));
      }
    }
  }

  @Test
  void aPortSomeoneListensOnIsNotHandedOut() throws IOException {
    int ephemeral = QuarkusProcess.ephemeralRangeStart();
    // Take most of the range below the ephemeral one, then ask: what comes back must be free.
    var held = new java.util.ArrayList<ServerSocket>();
    try {
      for (int port = 20_000; port < ephemeral && held.size() < 2_000; port++) {
        try {
          ServerSocket socket = new ServerSocket();
          socket.bind(new InetSocketAddress(port));
          held.add(socket);
        } catch (IOException taken) {
          // someone else's
        }
      }
      var taken =
          held.stream()
              .map(ServerSocket::getLocalPort)
              .collect(java.util.stream.Collectors.toSet());
      for (int i = 0; i < 200; i++) {
        assertThat(QuarkusProcess.freePort()).isNotIn(taken);
      }
    } finally {
      for (ServerSocket socket : held) {
        socket.close();
      }
    }
  }
}
