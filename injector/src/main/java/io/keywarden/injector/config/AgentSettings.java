package io.keywarden.injector.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Objects;
import java.util.Optional;

/**
 * The injector-wide part of every agent container, resolved once at startup (the CA file is read
 * here, so a wrong path fails the start rather than every admission).
 *
 * @param apiCaPem PEM of the operator API's CA, if configured
 */
public record AgentSettings(String image, String apiUrl, Optional<String> apiCaPem, boolean nativeSidecars) {

  public AgentSettings {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(apiUrl, "apiUrl");
    Objects.requireNonNull(apiCaPem, "apiCaPem");
  }

  public static AgentSettings from(InjectorConfig config) {
    Optional<String> ca = config.apiCaFile().map(path -> {
      try {
        return Files.readString(path, StandardCharsets.UTF_8).strip() + "\n";
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read keywarden.injector.api-ca-file " + path, e);
      }
    });
    return new AgentSettings(config.agentImage(), config.apiUrl(), ca, config.nativeSidecars());
  }
}
