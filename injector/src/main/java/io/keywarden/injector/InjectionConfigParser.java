package io.keywarden.injector;

import static io.keywarden.injector.Annotations.AWS_ENDPOINT;
import static io.keywarden.injector.Annotations.AWS_ENDPOINT_PORT;
import static io.keywarden.injector.Annotations.AWS_REGION;
import static io.keywarden.injector.Annotations.AWS_SDK;
import static io.keywarden.injector.Annotations.CONTAINERS;
import static io.keywarden.injector.Annotations.FILE_MODE;
import static io.keywarden.injector.Annotations.FORMAT_PREFIX;
import static io.keywarden.injector.Annotations.INJECT_LABEL;
import static io.keywarden.injector.Annotations.KEY_PREFIX;
import static io.keywarden.injector.Annotations.MOUNT_PATH;
import static io.keywarden.injector.Annotations.ON_CHANGE;
import static io.keywarden.injector.Annotations.PREFIX;
import static io.keywarden.injector.Annotations.REFRESH;
import static io.keywarden.injector.Annotations.SECRET_PREFIX;
import static io.keywarden.injector.Annotations.STAGE_PREFIX;

import io.keywarden.contract.AwsRegion;
import io.keywarden.contract.EndpointPort;
import io.keywarden.contract.FileMode;
import io.keywarden.contract.Flag;
import io.keywarden.contract.Format;
import io.keywarden.contract.GrammarException;
import io.keywarden.contract.OnChange;
import io.keywarden.contract.Refresh;
import io.keywarden.contract.Stage;
import io.keywarden.injector.InjectionConfig.AwsOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns a pod's annotations into an {@link InjectionConfig}, or denies the pod with an {@link
 * InvalidAnnotationException} naming the first bad annotation in key order, so the same pod always
 * gets the same message. Annotations outside {@code keywarden.io/} are ignored.
 */
public final class InjectionConfigParser {

  private static final String LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  // Kubernetes apimachinery IsDNS1123Label / IsDNS1123Subdomain.
  private static final Pattern DNS1123_LABEL = Pattern.compile(LABEL);
  private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile(LABEL + "(\\." + LABEL + ")*");
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,253}");
  private static final Pattern PATH_CHARS = Pattern.compile("[A-Za-z0-9._/-]+");
  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

  private InjectionConfigParser() {}

  public static InjectionConfig parse(Map<String, String> annotations) {
    SortedMap<String, String> ours = new TreeMap<>();
    annotations.forEach(
        (key, value) -> {
          if (key.startsWith(PREFIX)) {
            ours.put(key, value == null ? "" : value);
          }
        });
    Set<String> declaredFiles =
        ours.keySet().stream()
            .filter(key -> key.startsWith(SECRET_PREFIX))
            .map(key -> key.substring(SECRET_PREFIX.length()))
            .collect(Collectors.toSet());

    SortedMap<String, String> secretNames = new TreeMap<>();
    Map<String, String> keys = new TreeMap<>();
    Map<String, Format> formats = new TreeMap<>();
    Map<String, Stage> stages = new TreeMap<>();
    String mountPath = Annotations.DEFAULT_MOUNT_PATH;
    int fileMode = FileMode.DEFAULT;
    Refresh refresh = new Refresh.Watch();
    Optional<OnChange> onChange = Optional.empty();
    List<String> containers = List.of();
    boolean awsSdk = false;
    boolean awsEndpoint = false;
    Optional<Integer> endpointPort = Optional.empty();
    Optional<String> region = Optional.empty();

    for (Map.Entry<String, String> entry : ours.entrySet()) {
      String annotation = entry.getKey();
      String value = entry.getValue();
      if (annotation.equals(MOUNT_PATH)) {
        mountPath = mountPath(annotation, value);
      } else if (annotation.equals(FILE_MODE)) {
        fileMode = grammar(annotation, value, FileMode::parse);
      } else if (annotation.equals(REFRESH)) {
        refresh = grammar(annotation, value, Refresh::parse);
      } else if (annotation.equals(ON_CHANGE)) {
        onChange = Optional.of(grammar(annotation, value, OnChange::parse));
      } else if (annotation.equals(AWS_SDK)) {
        awsSdk = grammar(annotation, value, Flag::parse);
      } else if (annotation.equals(AWS_ENDPOINT)) {
        awsEndpoint = grammar(annotation, value, Flag::parse);
      } else if (annotation.equals(AWS_ENDPOINT_PORT)) {
        endpointPort = Optional.of(grammar(annotation, value, EndpointPort::parse));
      } else if (annotation.equals(AWS_REGION)) {
        region = Optional.of(grammar(annotation, value, AwsRegion::parse));
      } else if (annotation.equals(CONTAINERS)) {
        containers = containers(annotation, value);
      } else if (annotation.startsWith(SECRET_PREFIX)) {
        secretNames.put(
            fileName(annotation, SECRET_PREFIX, declaredFiles), secretName(annotation, value));
      } else if (annotation.startsWith(KEY_PREFIX)) {
        keys.put(fileName(annotation, KEY_PREFIX, declaredFiles), key(annotation, value));
      } else if (annotation.startsWith(FORMAT_PREFIX)) {
        formats.put(
            fileName(annotation, FORMAT_PREFIX, declaredFiles),
            grammar(annotation, value, Format::parse));
      } else if (annotation.startsWith(STAGE_PREFIX)) {
        stages.put(
            fileName(annotation, STAGE_PREFIX, declaredFiles),
            grammar(annotation, value, Stage::parse));
      } else if (annotation.equals(INJECT_LABEL)) {
        throw new InvalidAnnotationException(
            annotation,
            "opting in is the pod label "
                + INJECT_LABEL
                + "="
                + Annotations.INJECT_ENABLED
                + ", not an annotation; remove the annotation");
      } else {
        throw new InvalidAnnotationException(annotation, "unknown Keywarden annotation");
      }
    }
    if (endpointPort.isPresent() && !awsEndpoint && !awsSdk) {
      throw new InvalidAnnotationException(
          AWS_ENDPOINT_PORT,
          "needs "
              + AWS_ENDPOINT
              + " or "
              + AWS_SDK
              + ": \"true\", the agent's loopback server it is the port of");
    }
    if (region.isPresent() && !awsSdk) {
      throw new InvalidAnnotationException(
          AWS_REGION, "needs " + AWS_SDK + ": \"true\", which gives the app its region");
    }
    AwsOptions aws =
        new AwsOptions(awsSdk, awsEndpoint, endpointPort.orElse(EndpointPort.DEFAULT), region);
    if (secretNames.isEmpty() && !aws.any()) {
      throw new InvalidAnnotationException(
          SECRET_PREFIX + "<file>",
          "the pod opted in to injection but names no secret; add one annotation per file, "
              + "its value the ManagedSecret name (or use "
              + AWS_SDK
              + " or "
              + AWS_ENDPOINT
              + ")");
    }

    List<SecretFile> files = new ArrayList<>();
    secretNames.forEach(
        (file, secretName) ->
            files.add(
                new SecretFile(
                    file,
                    secretName,
                    Optional.ofNullable(keys.get(file)),
                    formats.getOrDefault(file, Format.RAW),
                    stages.getOrDefault(file, Stage.CURRENT))));
    return new InjectionConfig(files, mountPath, fileMode, refresh, onChange, containers, aws);
  }

  private static String fileName(String annotation, String prefix, Set<String> declaredFiles) {
    String file = annotation.substring(prefix.length());
    // Names starting with ".." are the atomic writer's own (..data, ..<timestamp>).
    if (!FILE_NAME.matcher(file).matches() || file.equals(".") || file.startsWith("..")) {
      throw new InvalidAnnotationException(
          annotation,
          "file name "
              + quote(file)
              + " must be a plain name of letters, digits, '.', '_' and '-' (no '/', not '.', not starting with '..')");
    }
    if (!prefix.equals(SECRET_PREFIX) && !declaredFiles.contains(file)) {
      throw new InvalidAnnotationException(
          annotation,
          "no matching "
              + SECRET_PREFIX
              + file
              + " annotation names the ManagedSecret for this file");
    }
    return file;
  }

  private static String secretName(String annotation, String value) {
    if (value.length() > 253 || !DNS1123_SUBDOMAIN.matcher(value).matches()) {
      throw new InvalidAnnotationException(
          annotation,
          "ManagedSecret name "
              + quote(value)
              + " is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)");
    }
    return value;
  }

  private static String key(String annotation, String value) {
    if (value.isEmpty() || CONTROL.matcher(value).find()) {
      throw new InvalidAnnotationException(
          annotation,
          "key " + quote(value) + " must be a non-empty JSON key without control characters");
    }
    return value;
  }

  private static String mountPath(String annotation, String value) {
    boolean normalised =
        PATH_CHARS.matcher(value).matches()
            && value.startsWith("/")
            && !value.endsWith("/")
            && Arrays.stream(value.substring(1).split("/", -1))
                .noneMatch(
                    segment -> segment.isEmpty() || segment.equals(".") || segment.equals(".."));
    if (!normalised) {
      throw new InvalidAnnotationException(
          annotation,
          "mount path "
              + quote(value)
              + " must be an absolute, normalised directory other than '/' (letters, digits, '.', '_', '-';"
              + " no '.', '..' or empty segments, no trailing '/')");
    }
    return value;
  }

  /** A value of the injector-agent contract's grammar; its message names the annotation. */
  private static <T> T grammar(String annotation, String value, Function<String, T> parse) {
    try {
      return parse.apply(value);
    } catch (GrammarException e) {
      throw new InvalidAnnotationException(annotation, e.getMessage());
    }
  }

  private static List<String> containers(String annotation, String value) {
    List<String> names = new ArrayList<>();
    for (String raw : value.split(",", -1)) {
      String name = raw.strip();
      if (name.length() > 63 || !DNS1123_LABEL.matcher(name).matches()) {
        throw new InvalidAnnotationException(
            annotation,
            "container name "
                + quote(name)
                + " is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)");
      }
      if (names.contains(name)) {
        throw new InvalidAnnotationException(
            annotation, "container " + quote(name) + " is listed twice");
      }
      names.add(name);
    }
    return names;
  }

  /**
   * Annotation values may be up to 256 KiB and multi-line; keep the admission message short and on
   * one line.
   */
  private static String quote(String value) {
    String shown = value.length() > 64 ? value.substring(0, 64) + "..." : value;
    return "'" + CONTROL.matcher(shown).replaceAll("?") + "'";
  }
}
