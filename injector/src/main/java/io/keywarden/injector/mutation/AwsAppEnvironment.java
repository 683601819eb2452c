package io.keywarden.injector.mutation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.keywarden.contract.AwsSdkEnv;
import io.keywarden.injector.Annotations;
import io.keywarden.injector.InjectionConfig.AwsOptions;
import io.keywarden.injector.InvalidAnnotationException;
import io.keywarden.injector.config.AgentSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What keywarden.io/aws-sdk and keywarden.io/aws-endpoint put into an app container: the AWS
 * variables of its route, and how a container's own settings are treated. The injector never
 * overwrites a variable the container defines. When the container's own value would send the SDK
 * somewhere else (its own endpoint, its own credentials ahead of the container credentials), the
 * pod is denied with a message naming the container and variable, because the app would silently
 * not talk to Keywarden; when it only keeps its own region, CA bundle or JVM options, the pod is
 * admitted with a warning.
 */
final class AwsAppEnvironment {

  /** The JVM's default trust store becomes the agent's: the JDK's public CAs plus the API's CA. */
  static final String JAVA_TRUST_OPTIONS =
      "-Djavax.net.ssl.trustStore="
          + Volumes.AWS_DIR
          + "/"
          + AwsSdkEnv.TRUST_STORE_FILE
          + " -Djavax.net.ssl.trustStoreType=PKCS12";

  /** A different value here makes the SDK call something else than Keywarden: denied. */
  private static final Set<String> ROUTING =
      Set.of(
          AwsSdkEnv.ENDPOINT_URL_SECRETS_MANAGER,
          AwsSdkEnv.CONTAINER_CREDENTIALS_FULL_URI,
          AwsSdkEnv.CONTAINER_AUTHORIZATION_TOKEN_FILE,
          AwsSdkEnv.SSRF_TOKEN);

  private AwsAppEnvironment() {}

  /** The variables of the pod's route, in the order they are added; empty without AWS routes. */
  static List<EnvVar> variables(AgentSettings settings, AwsOptions aws) {
    List<EnvVar> env = new ArrayList<>();
    if (aws.endpoint()) {
      // Apps written for AWS's Secrets Manager Agent read their SSRF token from here.
      env.add(value(AwsSdkEnv.SSRF_TOKEN, "file://" + Volumes.TOKEN_FILE));
    }
    if (!aws.sdk()) {
      return env;
    }
    if (aws.endpoint()) {
      env.add(
          value(AwsSdkEnv.ENDPOINT_URL_SECRETS_MANAGER, "http://127.0.0.1:" + aws.endpointPort()));
    } else {
      env.add(value(AwsSdkEnv.ENDPOINT_URL_SECRETS_MANAGER, settings.apiUrl()));
      // The agent's loopback relay, not the API's HTTPS URL: botocore fetches credentials with
      // certifi's CAs only (not AWS_CA_BUNDLE), and every SDK takes plain HTTP on loopback.
      env.add(
          value(
              AwsSdkEnv.CONTAINER_CREDENTIALS_FULL_URI,
              "http://127.0.0.1:" + aws.endpointPort() + AwsSdkEnv.CREDENTIALS_PATH));
      env.add(value(AwsSdkEnv.CONTAINER_AUTHORIZATION_TOKEN_FILE, Volumes.TOKEN_FILE));
    }
    String region = aws.region().orElse(settings.awsRegion());
    env.add(value(AwsSdkEnv.REGION, region));
    env.add(value(AwsSdkEnv.DEFAULT_REGION, region));
    if (writesCa(settings, aws)) {
      String ca = Volumes.AWS_DIR + "/" + AwsSdkEnv.CA_FILE;
      env.add(value(AwsSdkEnv.CA_BUNDLE, ca));
      env.add(value(AwsSdkEnv.NODE_EXTRA_CA_CERTS, ca));
      env.add(value(AwsSdkEnv.JAVA_TOOL_OPTIONS, JAVA_TRUST_OPTIONS));
    }
    return env;
  }

  /**
   * Whether the agent relays the app's container-credentials call from loopback to the API: on the
   * direct route (the sidecar route needs no credentials).
   */
  static boolean relaysCredentials(AwsOptions aws) {
    return aws.sdk() && !aws.endpoint();
  }

  /**
   * Whether the agent writes the API's CA for the app: the direct HTTPS route with a CA to trust
   * (the loopback endpoint is plain HTTP; without a configured CA the API's certificate is one the
   * images already trust).
   */
  static boolean writesCa(AgentSettings settings, AwsOptions aws) {
    return aws.sdk() && !aws.endpoint() && settings.apiCaPem().isPresent();
  }

  /**
   * The clashes of {@code container}'s own environment with {@code wanted}: throws {@link
   * InvalidAnnotationException} for one that would route the SDK elsewhere, returns the warnings
   * for the settings it keeps. Values are never quoted: a container's variables may hold secrets.
   */
  static List<String> check(Container container, List<EnvVar> wanted, AwsOptions aws) {
    List<String> warnings = new ArrayList<>();
    String name = container.getName();
    if (aws.sdk() && !aws.endpoint()) {
      for (String credential : AwsSdkEnv.PRECEDING_CREDENTIALS) {
        if (own(container, credential).isPresent()) {
          throw new InvalidAnnotationException(
              Annotations.AWS_SDK,
              "container "
                  + name
                  + " sets "
                  + credential
                  + ", which the AWS SDKs use before the container credentials Keywarden sets, and"
                  + " the Keywarden API does not accept that identity; set "
                  + Annotations.AWS_ENDPOINT
                  + ": \"true\" (a loopback endpoint that accepts the app's own AWS signature), or"
                  + " remove the variable");
        }
      }
    }
    if (aws.sdk()) {
      Optional<EnvVar> ignore = own(container, AwsSdkEnv.IGNORE_CONFIGURED_ENDPOINT_URLS);
      if (ignore.isPresent() && !"false".equals(lower(ignore.get().getValue()))) {
        throw new InvalidAnnotationException(
            Annotations.AWS_SDK,
            "container "
                + name
                + " sets "
                + AwsSdkEnv.IGNORE_CONFIGURED_ENDPOINT_URLS
                + ", which makes the AWS SDKs ignore "
                + AwsSdkEnv.ENDPOINT_URL_SECRETS_MANAGER
                + "; remove it");
      }
    }
    if (!wanted.isEmpty() && container.getEnvFrom() != null && !container.getEnvFrom().isEmpty()) {
      // Kubernetes lets env win over envFrom: an AWS variable hidden there would be overridden.
      warnings.add(
          (aws.sdk() ? Annotations.AWS_SDK : Annotations.AWS_ENDPOINT)
              + ": container "
              + name
              + " takes variables from envFrom, which admission cannot see; an AWS variable set"
              + " there is overridden by Keywarden's (set it in env to keep it)");
    }
    for (EnvVar variable : wanted) {
      Optional<EnvVar> own = own(container, variable.getName());
      if (own.isEmpty() || same(own.get(), variable)) {
        continue;
      }
      if (ROUTING.contains(variable.getName())) {
        throw new InvalidAnnotationException(
            variable.getName().equals(AwsSdkEnv.SSRF_TOKEN)
                ? Annotations.AWS_ENDPOINT
                : Annotations.AWS_SDK,
            "container "
                + name
                + " sets its own "
                + variable.getName()
                + ", which Keywarden does not overwrite, and with it the app would not reach"
                + " Keywarden; remove the variable, or leave the annotation unset and configure the"
                + " app yourself");
      }
      warnings.add(
          Annotations.AWS_SDK
              + ": container "
              + name
              + " keeps its own "
              + variable.getName()
              + " instead of "
              + shown(variable)
              + hint(variable.getName()));
    }
    return warnings;
  }

  /** Adds every wanted variable the container does not define itself, after its own. */
  static void apply(Container container, List<EnvVar> wanted) {
    if (container.getEnv() == null) {
      container.setEnv(new ArrayList<>());
    }
    for (EnvVar variable : wanted) {
      if (own(container, variable.getName()).isEmpty()) {
        container.getEnv().add(variable);
      }
    }
  }

  private static String hint(String variable) {
    return switch (variable) {
      case AwsSdkEnv.REGION, AwsSdkEnv.DEFAULT_REGION ->
          " (set " + Annotations.AWS_REGION + " to the same region to silence this)";
      case AwsSdkEnv.JAVA_TOOL_OPTIONS ->
          "; add " + JAVA_TRUST_OPTIONS.substring(0, JAVA_TRUST_OPTIONS.indexOf(' ')) + " to them";
      default ->
          "; the app must trust the Keywarden API's CA, "
              + Volumes.AWS_DIR
              + "/"
              + AwsSdkEnv.CA_FILE;
    };
  }

  // The injector's own values are configuration, not the user's, so they can be shown; kept short
  // because the apiserver may cut warnings after 256 characters.
  private static String shown(EnvVar variable) {
    return variable.getName().equals(AwsSdkEnv.JAVA_TOOL_OPTIONS)
        ? "Keywarden's trust store options"
        : variable.getValue();
  }

  /** The container's definition that takes effect: Kubernetes uses the last of a name. */
  private static Optional<EnvVar> own(Container container, String variable) {
    if (container.getEnv() == null) {
      return Optional.empty();
    }
    EnvVar found = null;
    for (EnvVar env : container.getEnv()) {
      if (variable.equals(env.getName())) {
        found = env;
      }
    }
    return Optional.ofNullable(found);
  }

  private static boolean same(EnvVar own, EnvVar wanted) {
    return own.getValueFrom() == null && wanted.getValue().equals(own.getValue());
  }

  private static String lower(String value) {
    return value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
  }

  private static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }
}
