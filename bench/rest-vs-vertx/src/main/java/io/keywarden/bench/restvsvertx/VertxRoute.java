package io.keywarden.bench.restvsvertx;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * A raw Vert.x Web route on the same Quarkus HTTP server (same event loops, same TLS): what the
 * API's ApiServer does per request, without Quarkus REST's resource matching, parameter injection
 * and message body writers.
 */
@ApplicationScoped
public class VertxRoute {

  private final ObjectMapper json;

  public VertxRoute(ObjectMapper json) {
    this.json = json;
  }

  void routes(@Observes Router router) {
    router
        .get("/vertx/value")
        .handler(
            ctx -> {
              ValueAnswer answer = Answers.answer(ctx.request().getHeader("Authorization"));
              if (answer == null) {
                ctx.response().setStatusCode(401).end();
                return;
              }
              try {
                ctx.response()
                    .putHeader("Content-Type", "application/json")
                    .putHeader("Cache-Control", "no-store")
                    .end(Buffer.buffer(json.writeValueAsBytes(answer)));
              } catch (JsonProcessingException e) {
                ctx.fail(e);
              }
            });
  }
}
