package io.keywarden.csi;

import io.keywarden.agent.Json;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the plugin keeps on the node about one published volume, so that a restarted plugin resumes
 * its watch without waiting for kubelet's republish: the target, the pod and its volume attributes,
 * and the token with its expiry. {@link StateDir} stores it; the token goes to its own file, never
 * into the record's JSON.
 *
 * @param volumeId kubelet's volume id, also the name of the volume's directory
 * @param target the mount point kubelet asked for
 * @param volume the pod's volume as kubelet last published it
 */
record VolumeState(String volumeId, Path target, PodVolume volume) {

  /** The record's format; a record of another version is skipped, not guessed at. */
  static final int VERSION = 1;

  VolumeState {
    Objects.requireNonNull(volumeId, "volumeId");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(volume, "volume");
  }

  /** A record that cannot be used; the message says which field and why, never a token. */
  static final class InvalidStateException extends Exception {
    InvalidStateException(String message) {
      super(message);
    }
  }

  /**
   * The pod's directory in kubelet's layout ({@code <kubelet-root>/pods/<pod-uid>/volumes/
   * kubernetes.io~csi/<volume-name>/mount}), when the target has that layout and the recorded pod
   * uid; empty otherwise (the plugin then cannot tell whether the pod is still there).
   */
  Optional<Path> podDir() {
    Path mount = target;
    if (volume.podUid().isEmpty() || mount.getNameCount() < 6) {
      return Optional.empty();
    }
    Path volumes = mount.getParent().getParent().getParent();
    Path pod = volumes.getParent();
    boolean kubeletLayout =
        mount.getFileName().toString().equals("mount")
            && mount.getParent().getParent().getFileName().toString().equals("kubernetes.io~csi")
            && volumes.getFileName().toString().equals("volumes")
            && pod.getFileName().toString().equals(volume.podUid())
            && pod.getParent().getFileName().toString().equals("pods");
    return kubeletLayout ? Optional.of(pod) : Optional.empty();
  }

  /** The record's JSON: everything but the token. */
  String toJson() {
    Map<String, Object> pod = new LinkedHashMap<>();
    pod.put("namespace", volume.namespace());
    pod.put("name", volume.podName());
    pod.put("uid", volume.podUid());
    pod.put("serviceAccount", volume.serviceAccount());
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("version", VERSION);
    json.put("volumeId", volumeId);
    json.put("target", target.toString());
    json.put("pod", pod);
    volume.tokenExpiry().ifPresent(expiry -> json.put("tokenExpiry", expiry.toString()));
    json.put("attributes", new TreeMap<String, Object>(volume.attributes()));
    return Json.write(json);
  }

  /**
   * The record of {@link #toJson()} with the token read beside it; its attributes go through the
   * volume grammar again ({@link PodVolume#resume}).
   */
  static VolumeState fromJson(String text, String token) throws InvalidStateException {
    Object parsed;
    try {
      parsed = Json.parse(text);
    } catch (Json.ParseException e) {
      throw new InvalidStateException("not JSON: " + e.getMessage());
    }
    if (!(parsed instanceof Map<?, ?> json)) {
      throw new InvalidStateException("not a JSON object");
    }
    Object version = json.get("version");
    if (!(version instanceof Json.Number number
        && number.literal().equals(Integer.toString(VERSION)))) {
      throw new InvalidStateException(
          "version " + version + " is not " + VERSION + " (written by another plugin version)");
    }
    if (!(json.get("pod") instanceof Map<?, ?> pod)) {
      throw new InvalidStateException("pod: missing");
    }
    Path target = Path.of(string(json, "target"));
    if (!target.isAbsolute() || !target.normalize().equals(target)) {
      throw new InvalidStateException("target: not an absolute, normalised path");
    }
    Optional<Instant> expiry = Optional.empty();
    if (json.get("tokenExpiry") != null) {
      try {
        expiry = Optional.of(Instant.parse(string(json, "tokenExpiry")));
      } catch (DateTimeParseException e) {
        throw new InvalidStateException("tokenExpiry: not an RFC 3339 time");
      }
    }
    if (!(json.get("attributes") instanceof Map<?, ?> attributes)) {
      throw new InvalidStateException("attributes: missing");
    }
    Map<String, String> strings = new TreeMap<>();
    for (Map.Entry<?, ?> attribute : attributes.entrySet()) {
      if (!(attribute.getValue() instanceof String value)) {
        throw new InvalidStateException("attributes." + attribute.getKey() + ": not a string");
      }
      strings.put((String) attribute.getKey(), value);
    }
    if (token.isBlank()) {
      throw new InvalidStateException("the token file is empty");
    }
    PodVolume volume;
    try {
      volume =
          PodVolume.resume(
              string(pod, "namespace"),
              string(pod, "name"),
              string(pod, "uid"),
              string(pod, "serviceAccount"),
              token,
              expiry,
              strings);
    } catch (PodVolume.InvalidVolumeException e) {
      throw new InvalidStateException(e.getMessage());
    }
    return new VolumeState(string(json, "volumeId"), target, volume);
  }

  private static String string(Map<?, ?> json, String field) throws InvalidStateException {
    if (json.get(field) instanceof String value) {
      return value;
    }
    throw new InvalidStateException(field + ": missing or not a string");
  }
}
