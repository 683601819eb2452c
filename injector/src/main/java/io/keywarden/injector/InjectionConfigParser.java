package io.keywarden.injector;

import static io.keywarden.injector.Annotations.AWS_ENDPOINT;
import static io.keywarden.injector.Annotations.AWS_ENDPOINT_PORT;
import static io.keywarden.injector.Annotations.AWS_REGION;
import static io.keywarden.injector.Annotations.AWS_SDK;
import static io.keywarden.injector.Annotations.CONTAINERS;
import static io.keywarden.injector.Annotations.INJECT_LABEL;
import static io.keywarden.injector.Annotations.MODE;
import static io.keywarden.injector.Annotations.MOUNT_PATH;
import static io.keywarden.injector.Annotations.ON_CHANGE;
import static io.keywarden.injector.Annotations.PREFIX;
import static io.keywarden.injector.Annotations.SECRET_PREFIX;

import io.keywarden.contract.AwsRegion;
import io.keywarden.contract.EndpointPort;
import io.keywarden.contract.FileSet;
import io.keywarden.contract.FileSetParser;
import io.keywarden.contract.Flag;
import io.keywarden.contract.GrammarException;
import io.keywarden.contract.OnChange;
import io.keywarden.contract.SettingException;
import io.keywarden.injector.InjectionConfig.AwsOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Turns a pod's annotations into an {@link InjectionConfig}, or denies the pod with an {@link
 * InvalidAnnotationException} naming the first bad annotation in key order, so the same pod always
 * gets the same message. Annotations outside {@code keywarden.io/} are ignored. {@code
 * keywarden.io/mode} is read first, since it decides which other annotations a pod may carry: in
 * csi mode no Keywarden process runs in the pod, so {@code on-change} and the AWS annotations are
 * refused with a message saying what to do instead.
 */
public final class InjectionConfigParser {

  private static final String LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  // Kubernetes apimachinery IsDNS1123Label.
  private static final Pattern DNS1123_LABEL = Pattern.compile(LABEL);
  private static final Pattern PATH_CHARS = Pattern.compile("[A-Za-z0-9._/-]+");
  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

  private InjectionConfigParser() {}

  /** With sidecar mode as the default. */
  public static InjectionConfig parse(Map<String, String> annotations) {
    return parse(annotations, InjectionMode.SIDECAR);
  }

  /**
   * @param defaultMode the mode of a pod without {@code keywarden.io/mode} (the injector's {@code
   *     keywarden.injector.default-mode})
   */
  public static InjectionConfig parse(Map<String, String> annotations, InjectionMode defaultMode) {
    SortedMap<String, String> ours = new TreeMap<>();
    annotations.forEach(
        (key, value) -> {
          if (key.startsWith(PREFIX)) {
            ours.put(key, value == null ? "" : value);
          }
        });
    // The file settings are the CSI volume attributes' grammar too (contract FileSetParser).
    FileSetParser fileSettings = new FileSetParser(PREFIX, "annotation", ours.keySet());
    boolean modeAnnotated = ours.containsKey(MODE);
    InjectionMode mode = modeAnnotated ? InjectionMode.parse(MODE, ours.get(MODE)) : defaultMode;
    boolean csi = mode == InjectionMode.CSI;
    String mountPath = Annotations.DEFAULT_MOUNT_PATH;
    Optional<OnChange> onChange = Optional.empty();
    List<String> containers = List.of();
    boolean awsSdk = false;
    boolean awsEndpoint = false;
    Optional<Integer> endpointPort = Optional.empty();
    Optional<String> region = Optional.empty();

    for (Map.Entry<String, String> entry : ours.entrySet()) {
      String annotation = entry.getKey();
      String value = entry.getValue();
      if (annotation.equals(MODE)) {
        // read above
      } else if (annotation.equals(MOUNT_PATH)) {
        mountPath = mountPath(annotation, value);
      } else if (annotation.equals(ON_CHANGE)) {
        onChange = Optional.of(grammar(annotation, value, OnChange::parse));
        if (csi) {
          throw noProcessInCsiMode(
              annotation,
              modeAnnotated,
              onChange.get() instanceof OnChange.SendSignal send
                  ? OnChange.render(send)
                      + " needs the agent in the pod to send the signal to the app"
                  : "exec: needs the agent in the pod to run the command",
              " and let the app reread the files when they change (each change is one atomic"
                  + " switch of ..data)");
        }
      } else if (annotation.equals(AWS_SDK)) {
        awsSdk = grammar(annotation, value, Flag::parse);
        if (csi && awsSdk) {
          throw noProcessInCsiMode(
              annotation,
              modeAnnotated,
              "the AWS SDK routes need the agent in the pod (its credentials relay, the API's CA"
                  + " for the SDK) and the keywarden.io token in the app containers",
              " and read the secret files instead");
        }
      } else if (annotation.equals(AWS_ENDPOINT)) {
        awsEndpoint = grammar(annotation, value, Flag::parse);
        if (csi && awsEndpoint) {
          throw noProcessInCsiMode(
              annotation,
              modeAnnotated,
              "the loopback Secrets Manager endpoint is served by the agent in the pod",
              " and read the secret files instead");
        }
      } else if (annotation.equals(AWS_ENDPOINT_PORT)) {
        endpointPort = Optional.of(grammar(annotation, value, EndpointPort::parse));
        if (csi) {
          throw noProcessInCsiMode(
              annotation,
              modeAnnotated,
              "it is the port of the agent's loopback AWS server in the pod",
              "");
        }
      } else if (annotation.equals(AWS_REGION)) {
        region = Optional.of(grammar(annotation, value, AwsRegion::parse));
        if (csi) {
          throw noProcessInCsiMode(
              annotation,
              modeAnnotated,
              "it is the region of the AWS SDK route, which needs the agent in the pod",
              "");
        }
      } else if (annotation.equals(CONTAINERS)) {
        containers = containers(annotation, value);
      } else if (fileSetting(fileSettings, annotation, value)) {
        // taken by the file set
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
    FileSet fileSet = fileSettings.result();
    if (fileSet.files().isEmpty() && !aws.any()) {
      throw new InvalidAnnotationException(
          SECRET_PREFIX + "<file>",
          "the pod opted in to injection but names no secret; add one annotation per file, "
              + "its value the ManagedSecret name"
              + (csi ? "" : " (or use " + AWS_SDK + " or " + AWS_ENDPOINT + ")"));
    }

    List<SecretFile> files =
        fileSet.files().stream()
            .map(
                entry ->
                    new SecretFile(
                        entry.file(),
                        entry.secret(),
                        Optional.ofNullable(entry.key()),
                        entry.format(),
                        entry.stage()))
            .toList();
    return new InjectionConfig(
        files, mountPath, fileSet.fileMode(), fileSet.refresh(), onChange, containers, aws, mode);
  }

  /**
   * An annotation that needs a Keywarden process in the pod, in csi mode: what it needs, why csi
   * mode has none, and the two ways out.
   */
  private static InvalidAnnotationException noProcessInCsiMode(
      String annotation, boolean modeAnnotated, String needs, String instead) {
    return new InvalidAnnotationException(
        annotation,
        needs
            + ", but in csi mode ("
            + (modeAnnotated
                ? MODE + ": " + InjectionMode.CSI.annotationValue()
                : "the injector's default mode")
            + ") no Keywarden process runs in the pod: the CSI node plugin writes the files from"
            + " outside it; remove the annotation"
            + instead
            + ", or set "
            + MODE
            + ": "
            + InjectionMode.SIDECAR.annotationValue());
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

  /** Feeds {@code annotation} to the file set; its error names the annotation. */
  private static boolean fileSetting(FileSetParser fileSettings, String annotation, String value) {
    try {
      return fileSettings.accept(annotation, value);
    } catch (SettingException e) {
      throw new InvalidAnnotationException(annotation, e.getMessage());
    }
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
