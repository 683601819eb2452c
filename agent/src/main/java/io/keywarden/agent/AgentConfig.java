package io.keywarden.agent;

import io.keywarden.contract.AgentEnv;
import io.keywarden.contract.AwsSdkEnv;
import io.keywarden.contract.EndpointPort;
import io.keywarden.contract.FileEntry;
import io.keywarden.contract.FileMode;
import io.keywarden.contract.Format;
import io.keywarden.contract.GrammarException;
import io.keywarden.contract.Stage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The agent's configuration, parsed and validated once from the environment that the mutating
 * webhook sets. The constants below are the reference for every variable; a bad value fails with a
 * {@link ConfigException} that names the variable.
 */
public record AgentConfig(
    URI apiUrl,
    List<X509Certificate> caCertificates,
    Path tokenFile,
    String namespace,
    Path outputDir,
    List<FileSpec> files,
    int fileMode,
    Refresh refresh,
    OnChange onChange,
    boolean oneShot,
    int watchTimeoutSeconds,
    OptionalInt awsEndpointPort,
    OptionalInt awsCredentialsPort,
    Optional<Path> awsDir,
    Optional<SsrfToken> ssrfToken) {

  /** Base URL of the secret-value API, {@code https://...}; required. */
  public static final String API_URL = AgentEnv.API_URL;

  /** PEM certificates to trust for the API instead of the system trust store; optional. */
  public static final String API_CA = AgentEnv.API_CA;

  /** A file with PEM certificates, read once at start; the alternative to {@link #API_CA}. */
  public static final String API_CA_FILE = AgentEnv.API_CA_FILE;

  /**
   * The projected ServiceAccount token (audience keywarden.io); read on every request; required.
   */
  public static final String TOKEN_FILE = AgentEnv.TOKEN_FILE;

  /** The pod's namespace, where its ManagedSecrets live; required. */
  public static final String NAMESPACE = AgentEnv.NAMESPACE;

  /** The directory the files go to (the shared emptyDir); default {@value #DEFAULT_OUTPUT_DIR}. */
  public static final String OUTPUT_DIR = AgentEnv.OUTPUT_DIR;

  /**
   * JSON array, one object per file: {@code
   * {"file":"db","secret":"db-password","key":null,"format":"raw", "stage":"CURRENT"}}; {@code
   * file} and {@code secret} are required; required, at least one file.
   */
  public static final String FILES = AgentEnv.FILES;

  /** Octal mode of every file, such as {@code 0440}; default {@code 0644}. */
  public static final String FILE_MODE = AgentEnv.FILE_MODE;

  /**
   * {@code watch} (long-poll, the default), an interval such as {@code 30s}, {@code 5m}, {@code
   * 1h30m}, or {@code none}.
   */
  public static final String REFRESH = AgentEnv.REFRESH;

  /**
   * What to do after files changed: {@code signal:SIGHUP} (and other signals), {@code
   * exec:<command>}, or empty.
   */
  public static final String ON_CHANGE = AgentEnv.ON_CHANGE;

  /** {@code true}: fetch once, write, exit (an init container); default {@code false}. */
  public static final String ONE_SHOT = AgentEnv.ONE_SHOT;

  /**
   * How long one long-poll may wait, in seconds, 1 to 300; default {@value
   * #DEFAULT_WATCH_TIMEOUT_SECONDS}.
   */
  public static final String WATCH_TIMEOUT_SECONDS = AgentEnv.WATCH_TIMEOUT_SECONDS;

  /**
   * {@code true} allows an {@code http://} API URL; for tests only, since the token would travel in
   * clear.
   */
  public static final String ALLOW_INSECURE_HTTP = AgentEnv.ALLOW_INSECURE_HTTP;

  /** The loopback port of the AWS endpoint; unset: no endpoint. */
  public static final String AWS_ENDPOINT_PORT = AgentEnv.AWS_ENDPOINT_PORT;

  /** The loopback port of the container-credentials relay; unset: no relay. */
  public static final String AWS_CREDENTIALS_PORT = AgentEnv.AWS_CREDENTIALS_PORT;

  /** Where the API CA is written for the app's AWS SDK; unset: nowhere. */
  public static final String AWS_DIR = AgentEnv.AWS_DIR;

  public static final String DEFAULT_OUTPUT_DIR = AgentEnv.DEFAULT_OUTPUT_DIR;
  public static final int DEFAULT_FILE_MODE = FileMode.DEFAULT;
  public static final int DEFAULT_WATCH_TIMEOUT_SECONDS = 60;
  public static final String DEFAULT_STAGE = Stage.CURRENT.name();

  /** The API caps {@code timeoutSeconds} at this. */
  static final int MAX_WATCH_TIMEOUT_SECONDS = 300;

  // Kubernetes object names: a DNS-1123 subdomain (secrets) and label (namespaces).
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Set<String> FILE_FIELDS = Set.copyOf(FileEntry.FIELDS);

  public AgentConfig {
    caCertificates = List.copyOf(caCertificates);
    files = List.copyOf(files);
  }

  /**
   * The token the AWS Secrets Manager Agent paths require, as AWS's agent takes it: a value, or
   * {@code file://<path>}, which is read for every request because the injector points it at the
   * projected token that kubelet rotates.
   *
   * @param variable the variable it came from, for messages
   */
  public record SsrfToken(String variable, String value, Path file) {

    /** The token now; throws when the file cannot be read or is empty. */
    String current() throws IOException {
      String token = file == null ? value : Files.readString(file, StandardCharsets.UTF_8).strip();
      if (token.isEmpty()) {
        throw new IOException(variable + " names an empty token");
      }
      return token;
    }

    @Override
    public String toString() {
      return file == null ? variable + "=<redacted>" : variable + "=file://" + file;
    }
  }

  /** One secret at one staging label; each distinct one is fetched and watched once. */
  public record SecretRef(String secret, String stage) {
    @Override
    public String toString() {
      return DEFAULT_STAGE.equals(stage) ? secret : secret + "@" + stage;
    }
  }

  /** One output file; {@code key} is null for the whole secret. */
  public record FileSpec(String file, SecretRef ref, String key, Format format) {}

  /** How the agent notices changes. */
  public record Refresh(Mode mode, Duration interval) {
    public enum Mode {
      WATCH,
      INTERVAL,
      NONE
    }

    static Refresh watch() {
      return new Refresh(Mode.WATCH, null);
    }

    @Override
    public String toString() {
      return mode == Mode.INTERVAL
          ? "every " + interval.toSeconds() + "s"
          : mode.name().toLowerCase(Locale.ROOT);
    }
  }

  /** What runs after a change: nothing, a signal (name without SIG) or a shell command. */
  public record OnChange(Kind kind, String signal, String command) {
    public enum Kind {
      NONE,
      SIGNAL,
      EXEC
    }

    static final OnChange NOTHING = new OnChange(Kind.NONE, null, null);

    @Override
    public String toString() {
      // The command is the user's and might embed a credential; it is not logged.
      return switch (kind) {
        case NONE -> "none";
        case SIGNAL -> "signal:SIG" + signal;
        case EXEC -> "exec";
      };
    }
  }

  /** The distinct secrets that the files need, in the order of the files. */
  public Set<SecretRef> secretRefs() {
    Set<SecretRef> refs = new LinkedHashSet<>();
    for (FileSpec file : files) {
      refs.add(file.ref());
    }
    return refs;
  }

  public static AgentConfig fromEnv(Map<String, String> env) throws ConfigException {
    boolean allowInsecure = bool(env, ALLOW_INSECURE_HTTP, false);
    AgentConfig config =
        new AgentConfig(
            apiUrl(required(env, API_URL), allowInsecure),
            caCertificates(env),
            path(TOKEN_FILE, required(env, TOKEN_FILE)),
            namespace(required(env, NAMESPACE)),
            outputDir(env),
            files(
                required(env, FILES),
                optional(env, AWS_ENDPOINT_PORT) != null
                    || optional(env, AWS_CREDENTIALS_PORT) != null
                    || optional(env, AWS_DIR) != null),
            fileMode(optional(env, FILE_MODE)),
            refresh(optional(env, REFRESH)),
            onChange(optional(env, ON_CHANGE)),
            bool(env, ONE_SHOT, false),
            watchTimeout(optional(env, WATCH_TIMEOUT_SECONDS)),
            port(AWS_ENDPOINT_PORT, optional(env, AWS_ENDPOINT_PORT)),
            port(AWS_CREDENTIALS_PORT, optional(env, AWS_CREDENTIALS_PORT)),
            awsDir(optional(env, AWS_DIR)),
            ssrfToken(env));
    if (config.awsDir().isPresent() && config.caCertificates().isEmpty()) {
      throw new ConfigException(
          AWS_DIR, "needs the API CA (" + API_CA + " or " + API_CA_FILE + ") to write there");
    }
    if (config.awsEndpointPort().isPresent()
        && config.awsEndpointPort().equals(config.awsCredentialsPort())) {
      throw new ConfigException(
          AWS_CREDENTIALS_PORT, "must differ from " + AWS_ENDPOINT_PORT + ": both listen there");
    }
    if (config.awsEndpointPort().isPresent() && config.ssrfToken().isEmpty()) {
      throw new ConfigException(
          AwsSdkEnv.SSRF_TOKEN,
          "is required with "
              + AWS_ENDPOINT_PORT
              + ": the token the Secrets Manager Agent paths check (a value or file://<path>; "
              + String.join(", ", AwsSdkEnv.SSRF_TOKEN_VARIABLES)
              + " are read in this order)");
    }
    return config;
  }

  private static OptionalInt port(String variable, String text) throws ConfigException {
    if (text == null) {
      return OptionalInt.empty();
    }
    try {
      return OptionalInt.of(EndpointPort.parse(text));
    } catch (GrammarException e) {
      throw new ConfigException(variable, e.getMessage());
    }
  }

  private static Optional<Path> awsDir(String text) throws ConfigException {
    if (text == null) {
      return Optional.empty();
    }
    Path dir = path(AWS_DIR, text);
    if (!Files.isDirectory(dir)) {
      throw new ConfigException(AWS_DIR, "not a directory: " + dir);
    }
    return Optional.of(dir);
  }

  /** The first of AWS's variables that is set, as AWS's Secrets Manager Agent looks them up. */
  private static Optional<SsrfToken> ssrfToken(Map<String, String> env) throws ConfigException {
    for (String variable : AwsSdkEnv.SSRF_TOKEN_VARIABLES) {
      String text = optional(env, variable);
      if (text == null) {
        continue;
      }
      if (!text.startsWith("file://")) {
        return Optional.of(new SsrfToken(variable, text, null));
      }
      Path file = path(variable, text.substring("file://".length()));
      if (!file.isAbsolute()) {
        throw new ConfigException(
            variable, "file:// needs an absolute path, such as file:///var/run/token");
      }
      return Optional.of(new SsrfToken(variable, null, file));
    }
    return Optional.empty();
  }

  private static URI apiUrl(String text, boolean allowInsecure) throws ConfigException {
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw new ConfigException(API_URL, "not a URL: " + e.getReason());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (scheme.equals("http") && !allowInsecure) {
      throw new ConfigException(
          API_URL,
          "must be https:// (the bearer token would travel in clear); "
              + ALLOW_INSECURE_HTTP
              + "=true allows http:// for tests");
    }
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw new ConfigException(
          API_URL, "must be an https:// URL, such as https://keywarden.keywarden-system.svc:8443");
    }
    if (uri.getHost() == null) {
      throw new ConfigException(API_URL, "has no host");
    }
    if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new ConfigException(API_URL, "must be a base URL without user info, query or fragment");
    }
    String base = uri.toString();
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    return URI.create(base);
  }

  private static List<X509Certificate> caCertificates(Map<String, String> env)
      throws ConfigException {
    String pem = optional(env, API_CA);
    String file = optional(env, API_CA_FILE);
    if (pem != null && file != null) {
      throw new ConfigException(
          API_CA_FILE, "set either " + API_CA + " or " + API_CA_FILE + ", not both");
    }
    if (file != null) {
      try {
        return certificates(
            API_CA_FILE, Files.readString(path(API_CA_FILE, file), StandardCharsets.US_ASCII));
      } catch (IOException e) {
        throw new ConfigException(API_CA_FILE, "cannot read " + file + ": " + e);
      }
    }
    return pem == null ? List.of() : certificates(API_CA, pem);
  }

  private static List<X509Certificate> certificates(String variable, String pem)
      throws ConfigException {
    List<X509Certificate> certificates = new ArrayList<>();
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      for (var certificate :
          factory.generateCertificates(
              new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        certificates.add((X509Certificate) certificate);
      }
    } catch (CertificateException e) {
      throw new ConfigException(variable, "not PEM X.509 certificates: " + e.getMessage());
    }
    if (certificates.isEmpty()) {
      throw new ConfigException(variable, "contains no PEM certificate");
    }
    return certificates;
  }

  private static String namespace(String namespace) throws ConfigException {
    if (!DNS_LABEL.matcher(namespace).matches()) {
      throw new ConfigException(NAMESPACE, "not a Kubernetes namespace name: " + namespace);
    }
    return namespace;
  }

  private static Path outputDir(Map<String, String> env) throws ConfigException {
    String text = optional(env, OUTPUT_DIR);
    Path dir = path(OUTPUT_DIR, text == null ? DEFAULT_OUTPUT_DIR : text);
    if (!Files.isDirectory(dir)) {
      throw new ConfigException(OUTPUT_DIR, "not a directory: " + dir);
    }
    return dir;
  }

  private static List<FileSpec> files(String json, boolean awsOnly) throws ConfigException {
    Object parsed;
    try {
      parsed = Json.parse(json);
    } catch (Json.ParseException e) {
      throw new ConfigException(FILES, "not JSON: " + e.getMessage());
    }
    if (!(parsed instanceof List<?> entries) || (entries.isEmpty() && !awsOnly)) {
      throw new ConfigException(
          FILES,
          "must be a non-empty JSON array of {\"file\":...,\"secret\":...} objects (empty only"
              + " with "
              + AWS_ENDPOINT_PORT
              + ", "
              + AWS_CREDENTIALS_PORT
              + " or "
              + AWS_DIR
              + ")");
    }
    List<FileSpec> files = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < entries.size(); i++) {
      String where = FILES + "[" + i + "]";
      if (!(entries.get(i) instanceof Map<?, ?> entry)) {
        throw new ConfigException(where, "must be an object");
      }
      for (Object field : entry.keySet()) {
        if (!FILE_FIELDS.contains(field)) {
          throw new ConfigException(
              where + "." + field, "unknown field; known are file, secret, key, format, stage");
        }
      }
      String file = string(entry, where, "file", true);
      try {
        AtomicWriter.checkFileName(file);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(where + ".file", e.getMessage());
      }
      if (!names.add(file)) {
        throw new ConfigException(where + ".file", "file " + file + " is listed twice");
      }
      String secret = string(entry, where, "secret", true);
      if (secret.length() > 253 || !DNS_SUBDOMAIN.matcher(secret).matches()) {
        throw new ConfigException(where + ".secret", "not a ManagedSecret name: " + secret);
      }
      String key = string(entry, where, "key", false);
      if (key != null && key.isEmpty()) {
        throw new ConfigException(
            where + ".key", "must not be empty; use null for the whole secret");
      }
      String formatName = string(entry, where, "format", false);
      Format format;
      String stage = string(entry, where, "stage", false);
      try {
        format = formatName == null ? Format.RAW : Format.parse(formatName);
      } catch (GrammarException e) {
        throw new ConfigException(where + ".format", e.getMessage());
      }
      try {
        stage = stage == null ? DEFAULT_STAGE : Stage.parse(stage).name();
      } catch (GrammarException e) {
        throw new ConfigException(where + ".stage", e.getMessage());
      }
      files.add(new FileSpec(file, new SecretRef(secret, stage), key, format));
    }
    return files;
  }

  private static String string(Map<?, ?> entry, String where, String field, boolean required)
      throws ConfigException {
    Object value = entry.get(field);
    if (value == null) {
      if (required) {
        throw new ConfigException(where + "." + field, "is required");
      }
      return null;
    }
    if (!(value instanceof String string)) {
      throw new ConfigException(where + "." + field, "must be a string");
    }
    return string;
  }

  private static int fileMode(String text) throws ConfigException {
    try {
      return text == null ? DEFAULT_FILE_MODE : FileMode.parse(text);
    } catch (GrammarException e) {
      throw new ConfigException(FILE_MODE, e.getMessage());
    }
  }

  // The grammars are the contract's (io.keywarden.contract), shared with the injector; the agent
  // keeps its own small value types, which its watcher and change hook use.
  private static Refresh refresh(String text) throws ConfigException {
    io.keywarden.contract.Refresh parsed;
    try {
      parsed =
          text == null
              ? new io.keywarden.contract.Refresh.Watch()
              : io.keywarden.contract.Refresh.parse(text);
    } catch (GrammarException e) {
      throw new ConfigException(REFRESH, e.getMessage());
    }
    if (parsed instanceof io.keywarden.contract.Refresh.Every every) {
      return new Refresh(Refresh.Mode.INTERVAL, every.interval());
    }
    return parsed instanceof io.keywarden.contract.Refresh.Never
        ? new Refresh(Refresh.Mode.NONE, null)
        : Refresh.watch();
  }

  private static OnChange onChange(String text) throws ConfigException {
    if (text == null) {
      return OnChange.NOTHING;
    }
    try {
      io.keywarden.contract.OnChange parsed = io.keywarden.contract.OnChange.parse(text);
      if (parsed instanceof io.keywarden.contract.OnChange.SendSignal send) {
        return new OnChange(OnChange.Kind.SIGNAL, send.signal().name(), null);
      }
      return new OnChange(
          OnChange.Kind.EXEC, null, ((io.keywarden.contract.OnChange.Exec) parsed).command());
    } catch (GrammarException e) {
      throw new ConfigException(ON_CHANGE, e.getMessage());
    }
  }

  private static int watchTimeout(String text) throws ConfigException {
    if (text == null) {
      return DEFAULT_WATCH_TIMEOUT_SECONDS;
    }
    try {
      int seconds = Integer.parseInt(text);
      if (seconds >= 1 && seconds <= MAX_WATCH_TIMEOUT_SECONDS) {
        return seconds;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ConfigException(
        WATCH_TIMEOUT_SECONDS,
        "must be a number of seconds from 1 to " + MAX_WATCH_TIMEOUT_SECONDS + ", not " + text);
  }

  private static boolean bool(Map<String, String> env, String variable, boolean fallback)
      throws ConfigException {
    String text = optional(env, variable);
    if (text == null) {
      return fallback;
    }
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ConfigException(variable, "must be true or false, not " + text);
    };
  }

  private static Path path(String variable, String text) throws ConfigException {
    try {
      return Path.of(text);
    } catch (InvalidPathException e) {
      throw new ConfigException(variable, "not a path: " + e.getReason());
    }
  }

  private static String required(Map<String, String> env, String variable) throws ConfigException {
    String value = optional(env, variable);
    if (value == null) {
      throw new ConfigException(variable, "is required");
    }
    return value;
  }

  // An empty variable counts as unset, because templating tools often leave empty values behind.
  private static String optional(Map<String, String> env, String variable) {
    String value = env.get(variable);
    return value == null || value.isBlank() ? null : value.strip();
  }
}
