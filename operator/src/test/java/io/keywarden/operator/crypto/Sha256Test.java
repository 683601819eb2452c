package io.keywarden.operator.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class Sha256Test {

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  @Test
  void matchesTheFips180TestVectors() {
    assertThat(hex(Sha256.ofUtf8("abc")))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(hex(Sha256.of()))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }

  @Test
  void partsAreDigestedAsTheirConcatenationAndNothingCarriesOver() {
    byte[] whole = Sha256.ofUtf8("keywarden/v1");
    byte[] parts =
        Sha256.of(
            "keywarden".getBytes(StandardCharsets.UTF_8), "/v1".getBytes(StandardCharsets.UTF_8));
    assertThat(parts).isEqualTo(whole);
    // The per-thread digest is reset by each call: the same input gives the same digest again.
    assertThat(Sha256.ofUtf8("keywarden/v1")).isEqualTo(whole);
  }

  @Test
  void threadsDoNotShareADigestInProgress() {
    byte[] expected = Sha256.ofUtf8("x".repeat(10_000));
    var futures =
        IntStream.range(0, 8)
            .mapToObj(
                i ->
                    CompletableFuture.supplyAsync(
                        () -> {
                          byte[] last = null;
                          for (int n = 0; n < 500; n++) {
                            last = Sha256.ofUtf8("x".repeat(10_000));
                            assertThat(last).isEqualTo(expected);
                          }
                          return last;
                        }))
            .toList();
    futures.forEach(f -> assertThat(f.join()).isEqualTo(expected));
  }
}
