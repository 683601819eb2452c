package io.keywarden.contract;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The one grammar of a set of secret files, shared by the injector's pod annotations ({@code
 * keywarden.io/secret.<file>}, ...) and the CSI driver's volume attributes ({@code secret.<file>},
 * ...): the keys differ only by a prefix, the values and the checks are the same.
 *
 * <ul>
 *   <li>{@code secret.<file>}: the ManagedSecret (a DNS-1123 subdomain) written to {@code <file>};
 *   <li>{@code key.<file>}, {@code format.<file>}, {@code stage.<file>}: one top-level JSON key,
 *       {@link Format}, {@link Stage}; each needs the matching {@code secret.<file>};
 *   <li>{@code file-mode} ({@link FileMode}) and {@code refresh} ({@link Refresh}), for the set.
 * </ul>
 *
 * {@code <file>} is a plain name ({@code [A-Za-z0-9._-]}, no {@code /}, not starting with {@code
 * ..}): a past CSI-driver advisory wrote outside its mount through such paths, and the atomic
 * writer reserves names starting with {@code ..}.
 *
 * <p>The caller feeds every key of its own in the order it wants errors reported ({@link #accept});
 * the first bad one throws a {@link SettingException} naming it.
 */
public final class FileSetParser {

  public static final String SECRET = "secret.";
  public static final String KEY = "key.";
  public static final String FORMAT = "format.";
  public static final String STAGE = "stage.";
  public static final String FILE_MODE = "file-mode";
  public static final String REFRESH = "refresh";

  private static final String LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  // Kubernetes apimachinery IsDNS1123Subdomain.
  private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile(LABEL + "(\\." + LABEL + ")*");
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,253}");
  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

  private final String prefix;
  private final String noun;
  private final Set<String> declaredFiles;
  private final Map<String, String> secrets = new TreeMap<>();
  private final Map<String, String> keys = new TreeMap<>();
  private final Map<String, Format> formats = new TreeMap<>();
  private final Map<String, Stage> stages = new TreeMap<>();
  private int fileMode = FileMode.DEFAULT;
  private Refresh refresh = new Refresh.Watch();

  /**
   * @param prefix what precedes every key, {@code keywarden.io/} for annotations, empty for volume
   *     attributes
   * @param noun what a key is called in messages: {@code annotation}, {@code volume attribute}
   * @param allKeys every key the caller will offer, so that {@code key.<file>} may come before its
   *     {@code secret.<file>}
   */
  public FileSetParser(String prefix, String noun, Collection<String> allKeys) {
    this.prefix = prefix;
    this.noun = noun;
    this.declaredFiles =
        allKeys.stream()
            .filter(key -> key.startsWith(prefix + SECRET))
            .map(key -> key.substring((prefix + SECRET).length()))
            .collect(Collectors.toSet());
  }

  /**
   * Takes {@code key} when it belongs to the file set.
   *
   * @return false when the key is not one of the file set's (the caller decides what it is)
   * @throws SettingException when it is one, and its file name or value is bad
   */
  public boolean accept(String key, String value) {
    if (!key.startsWith(prefix)) {
      return false;
    }
    String name = key.substring(prefix.length());
    if (name.equals(FILE_MODE)) {
      fileMode = grammar(key, value, FileMode::parse);
    } else if (name.equals(REFRESH)) {
      refresh = grammar(key, value, Refresh::parse);
    } else if (name.startsWith(SECRET)) {
      secrets.put(fileName(key, SECRET), secretName(key, value));
    } else if (name.startsWith(KEY)) {
      keys.put(fileName(key, KEY), jsonKey(key, value));
    } else if (name.startsWith(FORMAT)) {
      formats.put(fileName(key, FORMAT), grammar(key, value, Format::parse));
    } else if (name.startsWith(STAGE)) {
      stages.put(fileName(key, STAGE), grammar(key, value, Stage::parse));
    } else {
      return false;
    }
    return true;
  }

  /** The files accepted so far, sorted by file name; empty when no secret was named. */
  public FileSet result() {
    return new FileSet(
        secrets.entrySet().stream()
            .map(
                secret ->
                    new FileEntry(
                        secret.getKey(),
                        secret.getValue(),
                        keys.get(secret.getKey()),
                        formats.getOrDefault(secret.getKey(), Format.RAW),
                        stages.getOrDefault(secret.getKey(), Stage.CURRENT)))
            .toList(),
        fileMode,
        refresh);
  }

  private String fileName(String key, String kind) {
    String file = key.substring(prefix.length() + kind.length());
    if (!FILE_NAME.matcher(file).matches() || file.equals(".") || file.startsWith("..")) {
      throw new SettingException(
          key,
          "file name "
              + GrammarException.quote(file)
              + " must be a plain name of letters, digits, '.', '_' and '-' (no '/', not '.', not starting with '..')");
    }
    if (!kind.equals(SECRET) && !declaredFiles.contains(file)) {
      throw new SettingException(
          key,
          "no matching "
              + prefix
              + SECRET
              + file
              + " "
              + noun
              + " names the ManagedSecret for this file");
    }
    return file;
  }

  private static String secretName(String key, String value) {
    if (value.length() > 253 || !DNS1123_SUBDOMAIN.matcher(value).matches()) {
      throw new SettingException(
          key,
          "ManagedSecret name "
              + GrammarException.quote(value)
              + " is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)");
    }
    return value;
  }

  private static String jsonKey(String key, String value) {
    if (value.isEmpty() || CONTROL.matcher(value).find()) {
      throw new SettingException(
          key,
          "key "
              + GrammarException.quote(value)
              + " must be a non-empty JSON key without control characters");
    }
    return value;
  }

  private static <T> T grammar(String key, String value, Function<String, T> parse) {
    try {
      return parse.apply(value);
    } catch (GrammarException e) {
      throw new SettingException(key, e.getMessage());
    }
  }
}
