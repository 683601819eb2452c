package io.keywarden.images;

import java.nio.file.Path;
import java.util.List;

/**
 * One image to write: its full name, its layers (directories, bottom first) and its config.
 *
 * @param name a full reference with a tag, e.g. {@code ghcr.io/keywarden/agent:0.1.0}: containerd
 *     stores it under exactly this name, and kubelet finds it there without pulling
 */
public record ImageSpec(String name, List<Path> layers, ImageConfig config) {

  // registry/repository path, then a tag; no digest references: the digest is what we compute.
  private static final String REFERENCE =
      "[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";

  public ImageSpec {
    layers = List.copyOf(layers);
    if (!name.matches(REFERENCE)) {
      throw new IllegalArgumentException(
          "name: '"
              + name
              + "' is not registry/repository:tag (e.g. ghcr.io/keywarden/agent:0.1.0)");
    }
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("layers: at least one layer directory is needed");
    }
  }

  /** The tag, which OCI tools read from {@code org.opencontainers.image.ref.name}. */
  public String tag() {
    return name.substring(name.lastIndexOf(':') + 1);
  }
}
