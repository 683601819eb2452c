package io.keywarden.operator.api;

import io.keywarden.operator.access.Caller;
import io.keywarden.operator.access.aws.SigV4Verifier;
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
 * RequestAuthenticator#authenticateAsync(String)}). A look that finds no cached review asks
 * TokenReview again (off the calling thread), and when that refuses the token (its ServiceAccount
 * or pod was deleted, or it expired) every wait on it ends at once with the refusal, a 401, instead
 * of waiting out its timeout to answer 304 with a token that no longer reads anything.
 *
 * <p>Before, each waiter had a periodic timer of its own: 10,000 waiters on one token made 10,000
 * looks per period at one review, and ending a wait cancelled two timers instead of one.
 */
final class WaiterReviews {

  /** One waiting request, as far as its review is concerned. */
  interface Waiting {
    /** Ends the wait with this refusal; called at most once, from any thread. */
    void refused(AccessDeniedException refusal);
  }

  private final Map<String, Set<Waiting>> byCredential = new ConcurrentHashMap<>();
  // Credentials whose review a sweep started and that has not finished: the next sweep does not
  // ask again. While the API server does not answer, that is one review per credential at a time.
  private final Set<String> underReview = ConcurrentHashMap.newKeySet();
  private final Function<String, CompletableFuture<Caller>> review;

  /**
   * @param review the caller of an {@code Authorization} header: completes at once from the cache,
   *     or after a TokenReview off the calling thread; completes exceptionally with {@link
   *     AccessDeniedException} when the credential is refused
   */
  WaiterReviews(Function<String, CompletableFuture<Caller>> review) {
    this.review = review;
  }

  /**
   * Nothing is kept for a request without credentials (its first check refused it already) or
   * signed with SigV4: each signature is a credential of its own, and the session credentials it
   * was signed with are opened, not reviewed, and run out by their own expiry.
   */
  void add(String authorization, Waiting waiting) {
    if (!reviewed(authorization)) {
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
    if (!reviewed(authorization)) {
      return;
    }
    byCredential.computeIfPresent(
        authorization, (k, waits) -> waits.remove(waiting) && waits.isEmpty() ? null : waits);
  }

  private static boolean reviewed(String authorization) {
    return authorization != null && !authorization.startsWith(SigV4Verifier.ALGORITHM + " ");
  }

  /** Distinct credentials that have a wait. */
  int credentials() {
    return byCredential.size();
  }

  /**
   * Looks at each distinct credential's review once, unless the last sweep's look is still under
   * way. Never blocks: reviews that are not cached are asked on the refresh threads, and their
   * waits end when they are refused. A review that fails for another reason (the API server did not
   * answer) ends nothing: a later sweep asks again.
   */
  void sweep() {
    byCredential.forEach(
        (authorization, waits) -> {
          if (!underReview.add(authorization)) {
            return;
          }
          CompletableFuture<Caller> review;
          try {
            review = this.review.apply(authorization);
          } catch (RuntimeException e) {
            underReview.remove(authorization);
            return;
          }
          review.whenComplete(
              (caller, failure) -> {
                underReview.remove(authorization);
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
              });
        });
  }
}
