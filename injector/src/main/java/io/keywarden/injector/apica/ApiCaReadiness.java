package io.keywarden.injector.apica;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the API CA source has been read, so no replica answers admissions before it knows the
 * CA. A missing ConfigMap does not make the injector unready: pods are then denied with a message
 * that says what is missing, which is clearer than an unreachable webhook.
 */
@Readiness
@ApplicationScoped
public class ApiCaReadiness implements HealthCheck {

  private final ApiCaSource source;

  public ApiCaReadiness(ApiCaSource source) {
    this.source = source;
  }

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("keywarden-api-ca").status(source.loaded()).build();
  }
}
