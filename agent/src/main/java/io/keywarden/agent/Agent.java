package io.keywarden.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Properties;

/** Entry point of the agent sidecar. Only the atomic writer exists so far; the fetch loop is not wired yet. */
public final class Agent {

  static final int EXIT_USAGE = 2;

  private Agent() {}

  public static void main(String[] args) {
    System.exit(run(System.err));
  }

  static int run(PrintStream err) {
    err.println("keywarden-agent " + version());
    err.println("Usage: keywarden-agent");
    err.println("Not yet wired: this build cannot fetch secrets; it only contains the atomic file writer.");
    return EXIT_USAGE;
  }

  // maven-jar-plugin packs pom.properties into every jar; the manifest carries no version.
  private static String version() {
    try (InputStream in = Agent.class.getResourceAsStream("/META-INF/maven/io.keywarden/keywarden-agent/pom.properties")) {
      if (in == null) {
        return "(development build)";
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version", "(unknown version)");
    } catch (IOException e) {
      return "(unknown version)";
    }
  }
}
