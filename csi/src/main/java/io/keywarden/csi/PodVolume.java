package io.keywarden.csi;

import io.keywarden.agent.Json;
import io.keywarden.contract.FileSet;
import io.keywarden.contract.FileSetParser;
import io.keywarden.contract.SettingException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What kubelet tells the plugin about one inline volume, parsed once: the pod (from {@code
 * podInfoOnMount}), its token for audience {@value #AUDIENCE} (from the CSIDriver's {@code
 * tokenRequests}, in the request's secrets with {@code serviceAccountTokenInSecrets}, else in the
 * volume context) and the files, from the volume attributes in the annotations' grammar ({@link
 * FileSetParser}) without the {@code keywarden.io/} prefix.
 *
 * @param token the pod's ServiceAccount token; never printed
 * @param tokenExpiry when kubelet says the token expires ({@code expirationTimestamp}); empty when
 *     it said nothing readable
 * @param attributes the volume's own attributes (kubelet's keys left out), as the pod wrote them:
 *     what the plugin keeps on the node to parse again when it resumes the volume
 * @param files the attributes parsed
 */
record PodVolume(
    String namespace,
    String podName,
    String podUid,
    String serviceAccount,
    String token,
    Optional<Instant> tokenExpiry,
    Map<String, String> attributes,
    FileSet files) {

  /** The audience the operator's API accepts; the CSIDriver object asks kubelet for it. */
  static final String AUDIENCE = "keywarden.io";

  /** The prefix of every key kubelet adds to the volume context (not a user's attribute). */
  static final String KUBELET_PREFIX = "csi.storage.k8s.io/";

  static final String POD_NAME = KUBELET_PREFIX + "pod.name";
  static final String POD_NAMESPACE = KUBELET_PREFIX + "pod.namespace";
  static final String POD_UID = KUBELET_PREFIX + "pod.uid";
  static final String SERVICE_ACCOUNT = KUBELET_PREFIX + "serviceAccount.name";
  static final String EPHEMERAL = KUBELET_PREFIX + "ephemeral";
  static final String TOKENS = KUBELET_PREFIX + "serviceAccount.tokens";

  PodVolume {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(tokenExpiry, "tokenExpiry");
    attributes = Map.copyOf(attributes);
    Objects.requireNonNull(files, "files");
  }

  /** A bad volume: the message names the attribute (or what kubelet did not send) and the fix. */
  static final class InvalidVolumeException extends Exception {
    InvalidVolumeException(String message) {
      super(message);
    }
  }

  /**
   * Parses a NodePublishVolume's volume context and secrets. Only the token is read from {@code
   * secrets}, where kubelet puts it for a CSIDriver with {@code serviceAccountTokenInSecrets: true}
   * (as shipped: the CSI spec has secrets kept out of logs, the volume context not); without the
   * field (an older cluster, another CSIDriver object) it is in the volume context. When the
   * secrets hold it, the volume context is not looked at: kubelet then passes a pod's own attribute
   * of that name through unchanged, and it must not stand in for kubelet's token.
   */
  static PodVolume parse(Map<String, String> context, Map<String, String> secrets)
      throws InvalidVolumeException {
    if (!"true".equals(context.get(EPHEMERAL))) {
      throw new InvalidVolumeException(
          "only CSI ephemeral inline volumes are served (volumeAttributes in the pod's csi volume);"
              + " kubelet did not mark this volume "
              + EPHEMERAL);
    }
    Map<String, String> attributes = new TreeMap<>();
    context.forEach(
        (key, value) -> {
          if (!key.startsWith(KUBELET_PREFIX)) {
            attributes.put(key, value);
          }
        });
    FileSet files = files(attributes);
    String namespace = required(context, POD_NAMESPACE);
    String podName = required(context, POD_NAME);
    String serviceAccount = context.getOrDefault(SERVICE_ACCOUNT, "");
    boolean inSecrets = tokenInSecrets(secrets);
    Map<?, ?> entry = tokenEntry(inSecrets ? secrets : context, inSecrets);
    String token = (String) entry.get("token");
    checkBinding(token, namespace, podName, serviceAccount);
    return new PodVolume(
        namespace,
        podName,
        context.getOrDefault(POD_UID, ""),
        serviceAccount,
        token,
        expiry(entry.get("expirationTimestamp")),
        attributes,
        files);
  }

  /**
   * Whether {@link #parse} takes the token from the secrets (else from the volume context): what
   * the plugin's log says at each publish, so a CSIDriver without {@code
   * serviceAccountTokenInSecrets} shows.
   */
  static boolean tokenInSecrets(Map<String, String> secrets) {
    return secrets.containsKey(TOKENS);
  }

  /**
   * The volume of a pod as the plugin recorded it at its last publish: the same attributes go
   * through the same grammar again, so a resumed volume is exactly the one kubelet published.
   */
  static PodVolume resume(
      String namespace,
      String podName,
      String podUid,
      String serviceAccount,
      String token,
      Optional<Instant> tokenExpiry,
      Map<String, String> attributes)
      throws InvalidVolumeException {
    return new PodVolume(
        namespace,
        podName,
        podUid,
        serviceAccount,
        token,
        tokenExpiry,
        attributes,
        files(attributes));
  }

  /** The user's attributes in the annotations' grammar ({@link FileSetParser}), one file each. */
  private static FileSet files(Map<String, String> attributes) throws InvalidVolumeException {
    FileSetParser parser = new FileSetParser("", "volume attribute", attributes.keySet());
    for (Map.Entry<String, String> attribute : new TreeMap<>(attributes).entrySet()) {
      boolean taken;
      try {
        taken = parser.accept(attribute.getKey(), attribute.getValue());
      } catch (SettingException e) {
        throw new InvalidVolumeException("volume attribute " + e.key() + ": " + e.getMessage());
      }
      if (!taken) {
        throw new InvalidVolumeException(
            "volume attribute "
                + attribute.getKey()
                + ": unknown Keywarden volume attribute (secret.<file>, key.<file>, format.<file>,"
                + " stage.<file>, file-mode, refresh)");
      }
    }
    FileSet files = parser.result();
    if (files.files().isEmpty()) {
      throw new InvalidVolumeException(
          "volume attribute secret.<file>: the volume names no secret; add one attribute per file,"
              + " its value the ManagedSecret name");
    }
    return files;
  }

  /** Whether the token is known to have expired at {@code now}; an unknown expiry is not. */
  boolean tokenExpiredAt(Instant now) {
    return tokenExpiry.map(expiry -> !expiry.isAfter(now)).orElse(false);
  }

  /** kubelet's RFC 3339 time; anything else is an unknown expiry (the API still checks it). */
  private static Optional<Instant> expiry(Object timestamp) {
    if (!(timestamp instanceof String text)) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(text));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  /**
   * The namespace, pod and ServiceAccount the plugin names must be the ones the token is bound to.
   * kubelet's own keys override any attribute of the same name, so with the CSIDriver as shipped
   * they always agree; a CSIDriver without {@code podInfoOnMount} would let a pod's attribute
   * {@code csi.storage.k8s.io/pod.namespace} through unchanged, and the plugin would then name (and
   * ask the API for) another namespace than the token's. The token's signature is the API's to
   * check; a token that is not a Kubernetes JWT is left to the API to refuse.
   */
  private static void checkBinding(
      String token, String namespace, String podName, String serviceAccount)
      throws InvalidVolumeException {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      return;
    }
    Object claims;
    try {
      claims =
          Json.parse(
              new String(
                  java.util.Base64.getUrlDecoder().decode(parts[1]),
                  java.nio.charset.StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | Json.ParseException e) {
      return;
    }
    if (!(claims instanceof Map<?, ?> all && all.get("kubernetes.io") instanceof Map<?, ?> k8s)) {
      return;
    }
    String fix =
        ": the CSIDriver object needs podInfoOnMount: true and tokenRequests, so that kubelet"
            + " supplies both";
    if (k8s.get("namespace") instanceof String bound && !bound.equals(namespace)) {
      throw new InvalidVolumeException(
          "the pod's token is bound to namespace "
              + bound
              + ", not to "
              + POD_NAMESPACE
              + " "
              + namespace
              + fix);
    }
    if (k8s.get("pod") instanceof Map<?, ?> pod
        && pod.get("name") instanceof String bound
        && !bound.equals(podName)) {
      throw new InvalidVolumeException(
          "the pod's token is bound to pod "
              + bound
              + ", not to "
              + POD_NAME
              + " "
              + podName
              + fix);
    }
    if (k8s.get("serviceaccount") instanceof Map<?, ?> account
        && account.get("name") instanceof String bound
        && !serviceAccount.isEmpty()
        && !bound.equals(serviceAccount)) {
      throw new InvalidVolumeException(
          "the pod's token is of ServiceAccount "
              + bound
              + ", not of "
              + SERVICE_ACCOUNT
              + " "
              + serviceAccount
              + fix);
    }
  }

  /** {@code namespace/name}, how the logs and errors name the pod. */
  String pod() {
    return namespace + "/" + podName;
  }

  private static String required(Map<String, String> context, String key)
      throws InvalidVolumeException {
    String value = context.get(key);
    if (value == null || value.isEmpty()) {
      throw new InvalidVolumeException(
          "kubelet sent no " + key + ": the CSIDriver object needs podInfoOnMount: true");
    }
    return value;
  }

  /**
   * The entry for {@value #AUDIENCE} of {@code {"keywarden.io":{"token":"...",
   * "expirationTimestamp":"..."}}}, kubelet's format, from {@code source} (the secrets or the
   * volume context, whichever holds {@value #TOKENS}); its token is a non-empty string.
   */
  private static Map<?, ?> tokenEntry(Map<String, String> source, boolean inSecrets)
      throws InvalidVolumeException {
    String json = source.get(TOKENS);
    String where = inSecrets ? "the secrets" : "the volume context";
    String missing =
        "kubelet sent no token for audience "
            + AUDIENCE
            + " in "
            + TOKENS
            + (inSecrets ? " of the secrets" : " of the secrets or the volume context")
            + ": the CSIDriver object needs tokenRequests: [{audience: "
            + AUDIENCE
            + "}]";
    if (json == null || json.isEmpty()) {
      throw new InvalidVolumeException(missing);
    }
    Object parsed;
    try {
      parsed = Json.parse(json);
    } catch (Json.ParseException e) {
      // The message of a parse error could quote the token: say only where it went wrong.
      throw new InvalidVolumeException(TOKENS + " of " + where + " is not JSON");
    }
    if (parsed instanceof Map<?, ?> tokens
        && tokens.get(AUDIENCE) instanceof Map<?, ?> entry
        && entry.get("token") instanceof String token
        && !token.isEmpty()) {
      return entry;
    }
    throw new InvalidVolumeException(missing);
  }

  @Override
  public String toString() {
    return "PodVolume[pod=" + pod() + ", serviceAccount=" + serviceAccount + ", token=(redacted)]";
  }
}
