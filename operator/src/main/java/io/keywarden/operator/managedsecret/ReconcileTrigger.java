package io.keywarden.operator.managedsecret;

import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import io.keywarden.api.v1alpha1.ManagedSecret;
import java.util.Objects;

/**
 * Which updates of a ManagedSecret are worth a reconciliation: spec changes (generation), a
 * rotate-now request (an annotation, which does not bump the generation) and deletion. Status
 * writes are not, or every status write would echo back as a reconciliation.
 */
public class ReconcileTrigger implements OnUpdateFilter<ManagedSecret> {

  @Override
  public boolean accept(ManagedSecret updated, ManagedSecret old) {
    return !Objects.equals(updated.getMetadata().getGeneration(), old.getMetadata().getGeneration())
        || !Objects.equals(rotateNow(updated), rotateNow(old))
        || !Objects.equals(updated.getMetadata().getDeletionTimestamp(), old.getMetadata().getDeletionTimestamp());
  }

  private static String rotateNow(ManagedSecret secret) {
    var annotations = secret.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(Names.ROTATE_NOW_ANNOTATION);
  }
}
