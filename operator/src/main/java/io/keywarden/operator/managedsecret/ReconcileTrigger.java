package io.keywarden.operator.managedsecret;

import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import io.keywarden.api.v1alpha1.ManagedSecret;
import java.util.Objects;

/**
 * Which updates of a ManagedSecret are worth a reconciliation: spec changes (generation), a
 * rotate-now request (an annotation, which does not bump the generation), a verification the API
 * asks for after a read that failed to decrypt, a new CURRENT version (written by the API or a
 * rotation: the synced copy and pruning follow it), a change in failed rotations (Degraded is
 * derived from it) and deletion. Other status writes are not, or every status write would echo back
 * as a reconciliation.
 */
public class ReconcileTrigger implements OnUpdateFilter<ManagedSecret> {

  @Override
  public boolean accept(ManagedSecret updated, ManagedSecret old) {
    return !Objects.equals(updated.getMetadata().getGeneration(), old.getMetadata().getGeneration())
        || !Objects.equals(rotateNow(updated), rotateNow(old))
        || !Objects.equals(
            annotation(updated, ManagedSecret.VERIFY_ANNOTATION),
            annotation(old, ManagedSecret.VERIFY_ANNOTATION))
        || !Objects.equals(current(updated), current(old))
        || !Objects.equals(rotationFailures(updated), rotationFailures(old))
        || !Objects.equals(
            updated.getMetadata().getDeletionTimestamp(), old.getMetadata().getDeletionTimestamp());
  }

  private static String current(ManagedSecret secret) {
    return secret.getStatus() == null ? null : secret.getStatus().getCurrentVersionId();
  }

  /** A rotation that failed (or the first success after failures) changes what Degraded says. */
  private static Integer rotationFailures(ManagedSecret secret) {
    return secret.getStatus() == null ? null : secret.getStatus().getRotationFailures();
  }

  private static String annotation(ManagedSecret secret, String name) {
    var annotations = secret.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(name);
  }

  private static String rotateNow(ManagedSecret secret) {
    var annotations = secret.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(ManagedSecret.ROTATE_NOW_ANNOTATION);
  }
}
