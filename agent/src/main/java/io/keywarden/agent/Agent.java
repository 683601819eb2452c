package io.keywarden.agent;

import io.keywarden.agent.AgentConfig.SecretRef;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Map;

/**
 * Entry point of the agent sidecar: reads {@link AgentConfig} from the environment, writes all
 * secret files once, then keeps them fresh ({@link Sidecar}) or, in one-shot mode, exits.
 *
 * <p>Exit codes: 0 done (one-shot), 1 one-shot could not fetch, render or write, 2 bad
 * configuration or usage. The sidecar itself runs until it is stopped, and a stop by SIGTERM (how
 * kubelet ends every container) or SIGINT ends it with 0.
 */
public final class Agent {

  /** When the JVM got to the agent's code, for the startup figure in the first-write log line. */
  static final long STARTED_NANOS = System.nanoTime();

  static final int EXIT_OK = 0;
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  private Agent() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 1 && args[0].equals(CdsTraining.FLAG)) {
      System.exit(CdsTraining.run());
    }
    if (args.length > 0) {
      System.err.println("keywarden-agent " + version());
      System.err.println(
          "Usage: keywarden-agent (no arguments; configured by KEYWARDEN_* environment variables,"
              + " see agent/README.md)");
      System.exit(EXIT_USAGE);
    }
    System.exit(run(System.getenv(), System.err, true));
  }

  /** Runs the agent; returns only in one-shot mode or on bad configuration. */
  static int run(Map<String, String> env, PrintStream err) throws InterruptedException {
    return run(env, err, false);
  }

  /**
   * @param stopOnSignal whether a JVM shutdown (SIGTERM, SIGINT) stops the sidecar and ends the
   *     process with 0; only for the process's own agent, since it halts the JVM
   */
  private static int run(Map<String, String> env, PrintStream err, boolean stopOnSignal)
      throws InterruptedException {
    Log log = new Log(err);
    AgentConfig config;
    try {
      config = AgentConfig.fromEnv(env);
    } catch (ConfigException e) {
      log.error("invalid configuration: " + e.getMessage());
      return EXIT_USAGE;
    }
    String version = version();
    log.info(
        "keywarden-agent "
            + version
            + " starting: "
            + config.files().size()
            + " files from "
            + config.secretRefs().size()
            + " secrets in namespace "
            + config.namespace()
            + " via "
            + config.apiUrl()
            + ", refresh "
            + config.refresh()
            + ", on-change "
            + config.onChange()
            + (config.oneShot() ? ", one-shot" : ""));
    SecretApi api = new SecretApi(config, version);
    SecretSync sync = SecretSync.create(config, log);
    // Before the first files: their ..data link is what the app's start waits for, so the CA and
    // the endpoint are there when the app starts.
    if (config.awsDir().isPresent()) {
      try {
        SdkTrustFiles.write(config.awsDir().get(), config.caCertificates());
        log.info("wrote the API CA for AWS SDKs to " + config.awsDir().get());
      } catch (IOException e) {
        log.error("writing the API CA to " + config.awsDir().get() + " failed: " + e.getMessage());
        return EXIT_FAILED;
      }
    }
    if (config.oneShot()) {
      return oneShot(config, api, sync, log);
    }
    if (config.awsEndpointPort().isPresent()) {
      try {
        AwsEndpoint.start(
            config.awsEndpointPort().getAsInt(), api, config.ssrfToken().orElseThrow(), log);
      } catch (IOException e) {
        log.error(
            "the AWS endpoint cannot listen on 127.0.0.1:"
                + config.awsEndpointPort().getAsInt()
                + ": "
                + SecretWatcher.describe(e));
        return EXIT_FAILED;
      }
    }
    if (config.awsCredentialsPort().isPresent()) {
      try {
        CredentialsRelay.start(config.awsCredentialsPort().getAsInt(), api, log);
      } catch (IOException e) {
        log.error(
            "the AWS credentials relay cannot listen on 127.0.0.1:"
                + config.awsCredentialsPort().getAsInt()
                + ": "
                + SecretWatcher.describe(e));
        return EXIT_FAILED;
      }
    }
    if (!writeWithoutSecrets(config, sync, log)) {
      return EXIT_FAILED;
    }
    Sidecar sidecar = Sidecar.start(config, api, sync, log);
    if (stopOnSignal) {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(sidecar, log), "stop"));
    }
    sidecar.await();
    return EXIT_OK;
  }

  /**
   * A pod that only uses the AWS routes names no secret: the empty set of files is written once, so
   * that ..data (the startup probe) says the agent is ready.
   */
  private static boolean writeWithoutSecrets(AgentConfig config, SecretSync sync, Log log) {
    if (!config.files().isEmpty()) {
      return true;
    }
    try {
      sync.writeEmpty();
      return true;
    } catch (IOException e) {
      log.error("writing to " + config.outputDir() + " failed: " + SecretWatcher.describe(e));
      return false;
    }
  }

  /**
   * The sidecar's normal end: kubelet sends SIGTERM when the pod goes away (and to a native sidecar
   * once the app containers have ended). The JVM would then exit with 143 (128 + SIGTERM), which
   * kubelet reports as {@code Error}; the agent stops its watchers and exits 0 instead. Only a
   * shutdown the agent did not ask for runs this hook: the sidecar never calls System.exit itself
   * before {@link Sidecar#await()} returns, which only this hook makes it do.
   */
  private static void stop(Sidecar sidecar, Log log) {
    log.info("stopping (SIGTERM or SIGINT)");
    try {
      sidecar.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Runtime.getRuntime().halt(EXIT_OK);
  }

  // An init container: kubelet restarts it with its own backoff, so one attempt per secret is
  // enough.
  private static int oneShot(AgentConfig config, SecretApi api, SecretSync sync, Log log)
      throws InterruptedException {
    if (!writeWithoutSecrets(config, sync, log)) {
      return EXIT_FAILED;
    }
    for (SecretRef ref : config.secretRefs()) {
      SecretValue value;
      try {
        value = api.fetch(ref);
      } catch (IOException e) {
        log.error(
            "fetching secret "
                + ref
                + " failed: "
                + SecretWatcher.describe(e)
                + "; no files written");
        return EXIT_FAILED;
      }
      try {
        sync.offer(ref, value);
      } catch (IOException e) {
        log.error(
            "writing files to " + config.outputDir() + " failed: " + SecretWatcher.describe(e));
        return EXIT_FAILED;
      } catch (Renderer.RenderException e) {
        log.error(e.getMessage() + "; no files written");
        return EXIT_FAILED;
      }
    }
    return EXIT_OK;
  }

  // maven-jar-plugin writes Implementation-Version into the manifest, which the launcher has
  // already read.
  static String version() {
    String version = Agent.class.getPackage().getImplementationVersion();
    return version == null ? "(development build)" : version;
  }
}
