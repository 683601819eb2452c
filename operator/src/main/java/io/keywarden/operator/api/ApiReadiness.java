package io.keywarden.operator.api;

import io.keywarden.operator.config.KeywardenConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the API listens and its watch caches have synced, so no replica answers 404 from an
 * empty cache.
 */
@Readiness
@ApplicationScoped
public class ApiReadiness implements HealthCheck {

  private final ApiServer server;
  private final KeywardenConfig config;

  public ApiReadiness(ApiServer server, KeywardenConfig config) {
    this.server = server;
    this.config = config;
  }

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("secret-value-api")
        .status(!config.api().enabled() || server.ready())
        .build();
  }
}
