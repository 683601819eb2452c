package io.keywarden.operator.managedsecret;

/**
 * An object Keywarden would create that already exists and belongs to someone else (no owner
 * reference to this ManagedSecret): it is left exactly as it is, and reported.
 */
public record OwnershipConflict(String kind, String namespace, String name, String reason) {

  public String describe() {
    return kind
        + " "
        + namespace
        + "/"
        + name
        + " exists and is not managed by this ManagedSecret; Keywarden left it untouched";
  }
}
