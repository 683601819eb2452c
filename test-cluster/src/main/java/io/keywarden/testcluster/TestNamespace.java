package io.keywarden.testcluster;

/** A namespace created for one test and deleted after it. */
public record TestNamespace(String name) {

  @Override
  public String toString() {
    return name;
  }
}
