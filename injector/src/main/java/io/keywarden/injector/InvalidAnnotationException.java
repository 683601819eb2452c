package io.keywarden.injector;

/** A Keywarden annotation that denies the pod; the message names the annotation and what to fix. */
public class InvalidAnnotationException extends RuntimeException {

  private final String annotation;

  public InvalidAnnotationException(String annotation, String problem) {
    super("annotation " + annotation + ": " + problem);
    this.annotation = annotation;
  }

  /** The full annotation key, e.g. {@code keywarden.io/format.db}. */
  public String annotation() {
    return annotation;
  }
}
