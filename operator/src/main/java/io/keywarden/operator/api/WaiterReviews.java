package io.keywarden.operator.api;

import io.keywarden.operator.access.Caller;
import io.keywarden.operator.failure.AccessDeniedException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The token reviews of waiting long-polls, looked at once per distinct credential on each {@link
 * #sweep} rather than by a timer per waiter.
 *
 * <p>A look keeps a review fresh: a cached review read in the last quarter of its life is renewed
 * in the background, so a woken waiter finds it cached (see {@link
 * RequestAuthenticator#keepReviewFresh}). A look that finds no cached review asks TokenReview again
 * (off the calling thread), and when that refuses the token (its ServiceAccount or pod was deleted,
 * or it expired) every wait on it ends at once with the refusal, a 401, instead of waiting out its
 * timeout to answer 304 with a token that no longer reads anything.
 *
 * <p>Before, each waiter had a periodic timer of its own: 10,000 waiters on one token made 10,000
 * looks per period at one review, and ending a wait cancelled two timers instead of one.
 */
final class WaiterReviews {

  /** One waiting request, as far as its review is concerned. */
  interface Waiting {
    /** Ends the wait with this refusal; called at most once per sweep, from any thread. */
    void refused(AccessDeniedException refusal);
  }

  private final Map<String, Set<Waiting>> byCredential = new ConcurrentHashMap<>();
  private final Function<String, CompletableFuture<Caller>> review;

  /**
   * @param review the caller of an {@code Authorization} header: completes at once from the cache,
   *     or after a TokenReview off the calling thread; completes exceptionally with {@link
   *     AccessDeniedException} when the credential is refused
   */
  WaiterReviews(Function<String, CompletableFuture<Caller>> review) {
    this.review = review;
  }

  /** Nothing is kept for a request without credentials: its first check refused it already. */
  void add(String authorization, Waiting waiting) {
    if (authorization == null) {
      return;
    }
    // In compute, so that a remove emptying the same set cannot drop it between get and add.
    byCredential.compute(
        authorization,
        (k, waits) -> {
          Set<Waiting> set = waits == null ? ConcurrentHashMap.newKeySet() : waits;
          set.add(waiting);
          return set;
        });
  }

  void remove(String authorization, Waiting waiting) {
    if (authorization == null) {
      return;
    }
    byCredential.computeIfPresent(
        authorization, (k, waits) -> waits.remove(waiting) && waits.isEmpty() ? null : waits);
  }

  /** Distinct credentials that have a wait. */
  int credentials() {
    return byCredential.size();
  }

  /**
   * Looks at each distinct credential's review once. Never blocks: reviews that are not cached are
   * asked on the refresh threads, and their waits end when they are refused. A review that fails
   * for another reason (the API server did not answer) ends nothing: the next sweep asks again.
   */
  void sweep() {
    byCredential.forEach(
        (authorization, waits) ->
            review
                .apply(authorization)
                .whenComplete(
                    (caller, failure) -> {
                      Throwable cause =
                          failure instanceof CompletionException && failure.getCause() != null
                              ? failure.getCause()
                              : failure;
                      if (cause instanceof AccessDeniedException refusal) {
                        Set<Waiting> refused = byCredential.remove(authorization);
                        if (refused != null) {
                          refused.forEach(w -> w.refused(refusal));
                        }
                      }
                    }));
  }
}
