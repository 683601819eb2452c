package io.keywarden.operator.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.failure.AccessDeniedException;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reviews asked off the calling thread: one TokenReview per token at a time, however many ask. The
 * API server here is a stand-in that only answers TokenReviews, holding them until released.
 */
class TokenAuthenticatorTest {

  private final AtomicInteger reviews = new AtomicInteger();
  private final ExecutorService apiServerThreads = Executors.newCachedThreadPool();
  private volatile int httpStatus = 201;
  private final CountDownLatch release = new CountDownLatch(1);
  private volatile boolean authenticated = true;
  private HttpServer apiServer;
  private KubernetesClient client;
  private TokenAuthenticator tokens;

  @BeforeEach
  void start() throws Exception {
    apiServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    apiServer.createContext(
        "/apis/authentication.k8s.io/v1/tokenreviews",
        exchange -> {
          reviews.incrementAndGet();
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          String status =
              authenticated
                  ? "{\"authenticated\":true,\"audiences\":[\"keywarden.io\"],"
                      + "\"user\":{\"username\":\"system:serviceaccount:ns:app\",\"uid\":\"u1\"}}"
                  : "{\"authenticated\":false,\"error\":\"invalid bearer token\"}";
          byte[] body =
              ("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\",\"status\":"
                      + status
                      + "}")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(httpStatus, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    apiServer.setExecutor(apiServerThreads);
    apiServer.start();
    client =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder()
                    .withMasterUrl("http://127.0.0.1:" + apiServer.getAddress().getPort())
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build();
    KeywardenConfig config =
        new SmallRyeConfigBuilder()
            .withMapping(KeywardenConfig.class)
            .withConverter(Duration.class, 200, new DurationConverter())
            .withSources(
                new PropertiesConfigSource(Map.of("keywarden.namespace", "test"), "test", 100))
            .build()
            .getConfigMapping(KeywardenConfig.class);
    tokens = new TokenAuthenticator(client, config, new ObjectMapper());
  }

  @AfterEach
  void stop() {
    release.countDown();
    client.close();
    apiServer.stop(0);
    apiServerThreads.shutdownNow();
  }

  @Test
  void fiftyCallersOfOneUncachedTokenShareOneReview() throws Exception {
    List<CompletableFuture<Caller>> callers = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      callers.add(tokens.authenticateAsync("token-a"));
    }
    release.countDown();

    for (CompletableFuture<Caller> caller : callers) {
      assertThat(caller.get(10, TimeUnit.SECONDS).username())
          .isEqualTo("system:serviceaccount:ns:app");
    }
    assertThat(reviews).hasValue(1);
    assertThat(tokens.authenticateAsync("token-a").get().username()).endsWith(":app");
    assertThat(reviews).as("cached now").hasValue(1);
    tokens.authenticateAsync("token-b").get(10, TimeUnit.SECONDS);
    assertThat(reviews).as("another token has a review of its own").hasValue(2);
  }

  @Test
  void aRefusalReachesEveryCallerAndTheNextCallAsksAgain() throws Exception {
    authenticated = false;
    List<CompletableFuture<Caller>> callers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      callers.add(tokens.authenticateAsync("revoked"));
    }
    release.countDown();

    for (CompletableFuture<Caller> caller : callers) {
      assertThatThrownBy(() -> caller.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(AccessDeniedException.class)
          .hasMessageContaining("invalid bearer token");
    }
    assertThat(reviews).hasValue(1);
    assertThatThrownBy(() -> tokens.authenticateAsync("revoked").get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(AccessDeniedException.class);
    assertThat(reviews).as("a refusal is not cached").hasValue(2);
  }

  @Test
  void aFailedReviewReachesEveryCallerAndTheNextCallAsksAgain() throws Exception {
    httpStatus = 500;
    List<CompletableFuture<Caller>> callers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      callers.add(tokens.authenticateAsync("token-c"));
    }
    release.countDown();

    for (CompletableFuture<Caller> caller : callers) {
      assertThatThrownBy(() -> caller.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isNotInstanceOf(AccessDeniedException.class);
    }
    assertThat(reviews).hasValue(1);
    httpStatus = 201;
    assertThat(tokens.authenticateAsync("token-c").get(10, TimeUnit.SECONDS).username())
        .endsWith(":app");
    assertThat(reviews).hasValue(2);
  }

  @Test
  void aCallerCancellingItsCopyDoesNotCancelTheOthers() throws Exception {
    CompletableFuture<Caller> impatient = tokens.authenticateAsync("token-d");
    CompletableFuture<Caller> patient = tokens.authenticateAsync("token-d");
    impatient.cancel(true);
    release.countDown();

    assertThat(patient.get(10, TimeUnit.SECONDS).username()).endsWith(":app");
    assertThat(reviews).hasValue(1);
  }
}
