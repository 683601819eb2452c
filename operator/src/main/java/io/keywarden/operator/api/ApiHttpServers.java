package io.keywarden.operator.api;

import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;

/**
 * The API's HTTPS listener as one {@code HttpServer} per event loop, all on the same port: Vert.x
 * hands each new connection to the next instance, so TLS and HTTP work spreads over the loops
 * instead of every connection sharing one (one server created outside a verticle lives on a single
 * event loop). The instances share the options, hence the key manager that is asked on every
 * handshake: a renewed or reloaded certificate reaches all of them without a restart.
 */
final class ApiHttpServers {

  private final Vertx vertx;
  private String deployment;

  ApiHttpServers(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * Listens with {@code instances} servers and returns once all are bound; throws when one cannot.
   */
  void listen(HttpServerOptions options, Handler<HttpServerRequest> handler, int instances) {
    deployment =
        vertx
            .deployVerticle(
                () -> new Listener(options, handler),
                new DeploymentOptions().setInstances(instances))
            .toCompletionStage()
            .toCompletableFuture()
            .join();
  }

  void close() {
    if (deployment != null) {
      vertx.undeploy(deployment).toCompletionStage().toCompletableFuture().join();
      deployment = null;
    }
  }

  /** The number of event loops to serve on when not configured: one per CPU. */
  static int defaultInstances() {
    return Math.max(1, Runtime.getRuntime().availableProcessors());
  }

  private static final class Listener extends AbstractVerticle {
    private final HttpServerOptions options;
    private final Handler<HttpServerRequest> handler;

    Listener(HttpServerOptions options, Handler<HttpServerRequest> handler) {
      this.options = options;
      this.handler = handler;
    }

    @Override
    public void start(Promise<Void> started) {
      vertx
          .createHttpServer(new HttpServerOptions(options))
          .requestHandler(handler)
          .listen()
          .<Void>mapEmpty()
          .onComplete(started);
    }
  }
}
