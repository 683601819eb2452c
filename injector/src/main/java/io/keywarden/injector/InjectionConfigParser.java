package io.keywarden.injector;

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

import io.keywarden.injector.InjectionConfig.OnChange;
import io.keywarden.injector.InjectionConfig.Refresh;
import io.keywarden.injector.SecretFile.Format;
import io.keywarden.injector.SecretFile.Stage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
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
  private static final Pattern FILE_MODE_VALUE = Pattern.compile("0[0-7]{3}");
  // Six digits reach 999999h (about 114 years) and cannot overflow a Duration.
  private static final Pattern INTERVAL = Pattern.compile("([1-9][0-9]{0,5})([smh])");
  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");
  private static final Set<String> SIGNALS =
      Set.of("SIGHUP", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGINT");

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
    int fileMode = Annotations.DEFAULT_FILE_MODE;
    Refresh refresh = new Refresh.Watch();
    Optional<OnChange> onChange = Optional.empty();
    List<String> containers = List.of();

    for (Map.Entry<String, String> entry : ours.entrySet()) {
      String annotation = entry.getKey();
      String value = entry.getValue();
      if (annotation.equals(MOUNT_PATH)) {
        mountPath = mountPath(annotation, value);
      } else if (annotation.equals(FILE_MODE)) {
        fileMode = fileMode(annotation, value);
      } else if (annotation.equals(REFRESH)) {
        refresh = refresh(annotation, value);
      } else if (annotation.equals(ON_CHANGE)) {
        onChange = Optional.of(onChange(annotation, value));
      } else if (annotation.equals(CONTAINERS)) {
        containers = containers(annotation, value);
      } else if (annotation.startsWith(SECRET_PREFIX)) {
        secretNames.put(
            fileName(annotation, SECRET_PREFIX, declaredFiles), secretName(annotation, value));
      } else if (annotation.startsWith(KEY_PREFIX)) {
        keys.put(fileName(annotation, KEY_PREFIX, declaredFiles), key(annotation, value));
      } else if (annotation.startsWith(FORMAT_PREFIX)) {
        formats.put(fileName(annotation, FORMAT_PREFIX, declaredFiles), format(annotation, value));
      } else if (annotation.startsWith(STAGE_PREFIX)) {
        stages.put(fileName(annotation, STAGE_PREFIX, declaredFiles), stage(annotation, value));
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
    if (secretNames.isEmpty()) {
      throw new InvalidAnnotationException(
          SECRET_PREFIX + "<file>",
          "the pod opted in to injection but names no secret; add one annotation per file, "
              + "its value the ManagedSecret name");
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
    return new InjectionConfig(files, mountPath, fileMode, refresh, onChange, containers);
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

  private static Format format(String annotation, String value) {
    return Arrays.stream(Format.values())
        .filter(format -> format.annotationValue().equals(value))
        .findFirst()
        .orElseThrow(
            () ->
                new InvalidAnnotationException(
                    annotation,
                    "unknown format " + quote(value) + " (expected raw, json, env or properties)"));
  }

  private static Stage stage(String annotation, String value) {
    return Arrays.stream(Stage.values())
        .filter(stage -> stage.name().equals(value))
        .findFirst()
        .orElseThrow(
            () ->
                new InvalidAnnotationException(
                    annotation,
                    "unknown stage " + quote(value) + " (expected CURRENT, PREVIOUS or PENDING)"));
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

  private static int fileMode(String annotation, String value) {
    if (!FILE_MODE_VALUE.matcher(value).matches()) {
      throw new InvalidAnnotationException(
          annotation,
          "file mode "
              + quote(value)
              + " must be four octal digits up to 0777, such as 0440 (no setuid, setgid or sticky bit)");
    }
    int mode = Integer.parseInt(value, 8);
    if ((mode & 0400) == 0) {
      throw new InvalidAnnotationException(
          annotation,
          "file mode "
              + quote(value)
              + " must let the owner read the files (the agent reads them back to skip unchanged writes)");
    }
    return mode;
  }

  private static Refresh refresh(String annotation, String value) {
    if (value.equals("watch")) {
      return new Refresh.Watch();
    }
    if (value.equals("none")) {
      return new Refresh.Never();
    }
    Matcher interval = INTERVAL.matcher(value);
    if (!interval.matches()) {
      throw new InvalidAnnotationException(
          annotation,
          "refresh " + quote(value) + " must be watch, none, or an interval such as 30s, 5m or 1h");
    }
    long amount = Long.parseLong(interval.group(1));
    return new Refresh.Every(
        switch (interval.group(2)) {
          case "s" -> Duration.ofSeconds(amount);
          case "m" -> Duration.ofMinutes(amount);
          default -> Duration.ofHours(amount);
        });
  }

  private static OnChange onChange(String annotation, String value) {
    if (value.startsWith("signal:") && SIGNALS.contains(value.substring("signal:".length()))) {
      return new OnChange.Signal(value.substring("signal:".length()));
    }
    if (value.startsWith("exec:")) {
      String command = value.substring("exec:".length());
      if (!command.isBlank() && !CONTROL.matcher(command).find()) {
        return new OnChange.Exec(command);
      }
    }
    throw new InvalidAnnotationException(
        annotation,
        "on-change "
            + quote(value)
            + " must be signal:<SIGHUP, SIGUSR1, SIGUSR2, SIGTERM or SIGINT> or exec:<command>"
            + " (a non-blank command on one line)");
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
