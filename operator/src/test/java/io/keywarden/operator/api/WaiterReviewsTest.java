package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.keywarden.operator.access.Caller;
import io.keywarden.operator.failure.AccessDeniedException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Waiting tokens are looked at once each per sweep; a refused one ends exactly its own waits. */
class WaiterReviewsTest {

  private static final Caller APP =
      new Caller("system:serviceaccount:ns:app", "", List.of(), Map.of());

  private final Map<String, Integer> looks = new HashMap<>();
  private final Map<String, CompletableFuture<Caller>> answers = new HashMap<>();
  private final WaiterReviews reviews =
      new WaiterReviews(
          authorization -> {
            looks.merge(authorization, 1, Integer::sum);
            return answers.getOrDefault(authorization, CompletableFuture.completedFuture(APP));
          });

  @Test
  void aTokenSharedByTenThousandWaitsIsLookedAtOncePerSweep() {
    for (int i = 0; i < 10_000; i++) {
      reviews.add("Bearer shared", refusal -> {});
    }
    reviews.add("Bearer other", refusal -> {});

    reviews.sweep();
    reviews.sweep();

    assertThat(looks)
        .containsExactlyInAnyOrderEntriesOf(Map.of("Bearer shared", 2, "Bearer other", 2));
    assertThat(reviews.credentials()).isEqualTo(2);
  }

  @Test
  void aRefusedTokenEndsAllItsWaitsWithTheRefusalAndNoOthers() {
    List<String> ended = new CopyOnWriteArrayList<>();
    AccessDeniedException refusal =
        new AccessDeniedException(false, "token rejected by TokenReview: not authenticated");
    reviews.add("Bearer revoked", r -> ended.add("first " + r.getMessage()));
    reviews.add("Bearer revoked", r -> ended.add("second " + r.getMessage()));
    reviews.add("Bearer fine", r -> ended.add("fine"));
    // As a dependent stage of a failed future fails: wrapped.
    answers.put("Bearer revoked", CompletableFuture.failedFuture(new CompletionException(refusal)));

    reviews.sweep();

    assertThat(ended)
        .containsExactlyInAnyOrder(
            "first " + refusal.getMessage(), "second " + refusal.getMessage());
    assertThat(reviews.credentials()).isEqualTo(1);
    reviews.sweep();
    assertThat(ended).hasSize(2);
  }

  @Test
  void aReviewThatFailsForAnotherReasonEndsNothing() {
    List<AccessDeniedException> ended = new CopyOnWriteArrayList<>();
    reviews.add("Bearer token", ended::add);
    answers.put(
        "Bearer token",
        CompletableFuture.failedFuture(new IllegalStateException("connection refused")));

    reviews.sweep();

    assertThat(ended).isEmpty();
    assertThat(reviews.credentials()).isEqualTo(1);
  }

  @Test
  void aReviewStillUnderWayEndsTheWaitsWhenItIsRefused() {
    List<AccessDeniedException> ended = new CopyOnWriteArrayList<>();
    CompletableFuture<Caller> pending = new CompletableFuture<>();
    answers.put("Bearer token", pending);
    reviews.add("Bearer token", ended::add);

    reviews.sweep();
    assertThat(ended).isEmpty();
    pending.completeExceptionally(new AccessDeniedException(false, "token expired"));

    assertThat(ended).hasSize(1);
  }

  @Test
  void aReviewStillUnderWayIsNotAskedAgainByTheNextSweep() {
    CompletableFuture<Caller> pending = new CompletableFuture<>();
    answers.put("Bearer token", pending);
    reviews.add("Bearer token", refusal -> {});

    reviews.sweep();
    reviews.sweep();
    assertThat(looks).containsEntry("Bearer token", 1);
    pending.completeExceptionally(new IllegalStateException("connection refused"));
    reviews.sweep();

    assertThat(looks).containsEntry("Bearer token", 2);
  }

  @Test
  void waitsSignedWithSigV4AreNotKept() {
    reviews.add(
        "AWS4-HMAC-SHA256 Credential=ASIA.../20261201/us-east-1/secretsmanager/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=abc",
        refusal -> {});

    reviews.sweep();

    assertThat(reviews.credentials()).isZero();
    assertThat(looks).isEmpty();
  }

  @Test
  void theLastWaitToLeaveTakesItsTokenAlong() {
    WaiterReviews.Waiting first = refusal -> {};
    WaiterReviews.Waiting second = refusal -> {};
    reviews.add("Bearer token", first);
    reviews.add("Bearer token", second);
    reviews.add(null, refusal -> {});

    reviews.remove("Bearer token", first);
    assertThat(reviews.credentials()).isEqualTo(1);
    reviews.remove("Bearer token", second);
    assertThat(reviews.credentials()).isZero();

    reviews.sweep();
    assertThat(looks).isEmpty();
  }
}
