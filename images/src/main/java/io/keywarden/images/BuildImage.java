package io.keywarden.images;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Command line of the tool ({@code images/bin/build-images} runs it once per image):
 *
 * <pre>
 * BuildImage --name REF --output FILE --layer DIR [--layer DIR]... --entrypoint ARG [--entrypoint ARG]...
 *            [--env NAME=value]... [--user UID[:GID]] [--workdir DIR]
 * </pre>
 *
 * Layers are given bottom first; each {@code --entrypoint} is one argv element. Prints the manifest
 * digest and the archive's size.
 */
public final class BuildImage {

  private BuildImage() {}

  public static void main(String[] args) throws IOException {
    ImageSpec spec;
    Path output;
    try {
      Parsed parsed = parse(args);
      spec = parsed.spec();
      output = parsed.output();
    } catch (IllegalArgumentException e) {
      System.err.println("build-image: " + e.getMessage());
      System.exit(2);
      return;
    }
    OciArchive.Written written = OciArchive.write(spec, output);
    System.out.printf(
        "%s %s %d bytes %s%n",
        spec.name(), written.manifestDigest(), written.archiveSize(), written.archive());
  }

  record Parsed(ImageSpec spec, Path output) {}

  static Parsed parse(String[] args) {
    String name = null;
    Path output = null;
    String user = "";
    String workdir = "";
    List<Path> layers = new ArrayList<>();
    List<String> entrypoint = new ArrayList<>();
    List<String> env = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String option = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(option + ": a value is missing");
      }
      String value = args[++i];
      switch (option) {
        case "--name" -> name = value;
        case "--output" -> output = Path.of(value);
        case "--layer" -> {
          Path layer = Path.of(value);
          if (!Files.isDirectory(layer)) {
            throw new IllegalArgumentException("--layer: " + value + " is not a directory");
          }
          layers.add(layer);
        }
        case "--entrypoint" -> entrypoint.add(value);
        case "--env" -> env.add(value);
        case "--user" -> user = value;
        case "--workdir" -> workdir = value;
        default -> throw new IllegalArgumentException("unknown option " + option);
      }
    }
    if (name == null) {
      throw new IllegalArgumentException("--name is required");
    }
    if (output == null) {
      throw new IllegalArgumentException("--output is required");
    }
    return new Parsed(
        new ImageSpec(name, layers, new ImageConfig(entrypoint, env, user, workdir)), output);
  }
}
