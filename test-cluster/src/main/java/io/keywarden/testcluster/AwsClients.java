package io.keywarden.testcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real AWS clients the AWS-compatibility tests drive, installed from the registries by {@code
 * .ci/run} under the Keywarden cache: a Python venv {@code aws-clients} with boto3, the AWS CLI and
 * aws-secretsmanager-caching (PyPI), and {@code aws-js} with @aws-sdk/client-secrets-manager (npm).
 * A missing client fails the test with what to run; it never skips it.
 */
public final class AwsClients {

  /** What a client process printed and how it ended. */
  public record Run(int exitCode, String stdout, String stderr) {}

  private AwsClients() {}

  public static Path cache() {
    String cache = System.getenv("KEYWARDEN_CACHE");
    if (cache != null && !cache.isBlank()) {
      return Path.of(cache);
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    return (xdg == null || xdg.isBlank()
            ? Path.of(System.getProperty("user.home"), ".cache")
            : Path.of(xdg))
        .resolve("keywarden");
  }

  /** The venv's python, with boto3, botocore, awscli and aws_secretsmanager_caching. */
  public static Path python() {
    Path python = cache().resolve("aws-clients/bin/python");
    require(
        python,
        "python3 -m venv "
            + cache().resolve("aws-clients")
            + " && "
            + cache().resolve("aws-clients/bin/pip")
            + " install boto3 awscli aws-secretsmanager-caching");
    return python;
  }

  /** The AWS CLI of the same venv. */
  public static Path awsCli() {
    Path aws = cache().resolve("aws-clients/bin/aws");
    require(aws, "see AwsClients.python()");
    return aws;
  }

  /** The directory whose node_modules holds @aws-sdk/client-secrets-manager. */
  public static Path nodeModules() {
    Path dir = cache().resolve("aws-js");
    require(
        dir.resolve("node_modules/@aws-sdk/client-secrets-manager/package.json"),
        "npm install --prefix " + dir + " @aws-sdk/client-secrets-manager");
    return dir.resolve("node_modules");
  }

  private static void require(Path path, String install) {
    if (!Files.exists(path)) {
      throw new IllegalStateException(
          path + " is missing: run .ci/run, or install it with `" + install + "`");
    }
  }

  /**
   * Runs a client with exactly this environment (plus PATH and HOME pointing at an empty directory,
   * so no user AWS configuration or credentials file leaks in).
   */
  public static Run run(List<String> command, Map<String, String> env, Path home) {
    ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command));
    Map<String, String> environment = builder.environment();
    environment.clear();
    Map<String, String> base = new HashMap<>();
    base.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    base.put("HOME", home.toString());
    base.put("AWS_CONFIG_FILE", home.resolve("no-config").toString());
    base.put("AWS_SHARED_CREDENTIALS_FILE", home.resolve("no-credentials").toString());
    base.put("AWS_EC2_METADATA_DISABLED", "true");
    environment.putAll(base);
    environment.putAll(env);
    try {
      Files.createDirectories(home);
      Path out = Files.createTempFile(home, "stdout", ".txt");
      Path err = Files.createTempFile(home, "stderr", ".txt");
      Process process =
          builder
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .start();
      if (!process.waitFor(180, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(command.get(0) + " did not finish within 180 s");
      }
      return new Run(
          process.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
