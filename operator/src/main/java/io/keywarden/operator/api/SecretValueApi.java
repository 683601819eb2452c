package io.keywarden.operator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.GenerateSpec;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.access.AccessReviewer;
import io.keywarden.operator.access.Caller;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.AccessDeniedException;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.failure.InvalidSpecException;
import io.keywarden.operator.failure.MissingCiphertextException;
import io.keywarden.operator.failure.RequestException;
import io.keywarden.operator.generate.PasswordGenerator;
import io.keywarden.operator.generate.PasswordPolicy;
import io.keywarden.operator.versions.SecretVersions;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The operations of the secret-value API, shaped like AWS Secrets Manager's. Authorization comes
 * first, so a caller without rights learns nothing about whether a secret exists.
 */
public final class SecretValueApi {

  private static final Set<String> STAGES =
      Set.of(SecretVersion.CURRENT, SecretVersion.PREVIOUS, SecretVersion.PENDING);

  /** A value answer, with the version it is for (the audit line records it). */
  public record ValueAnswer(String versionId, ObjectNode body) {}

  private final KubernetesClient client;
  private final SecretCatalog catalog;
  private final SecretVersions versions;
  private final AccessReviewer reviewer;
  private final ObjectMapper json;

  public SecretValueApi(
      KubernetesClient client,
      SecretCatalog catalog,
      SecretVersions versions,
      AccessReviewer reviewer,
      ObjectMapper json) {
    this.client = client;
    this.catalog = catalog;
    this.versions = versions;
    this.reviewer = reviewer;
    this.json = json;
  }

  public void authorize(
      Caller caller, String verb, String namespace, String name, String subresource) {
    AccessReviewer.Decision decision = reviewer.review(caller, verb, namespace, name, subresource);
    if (!decision.allowed()) {
      throw new AccessDeniedException(true, decision.reason());
    }
  }

  /** GetSecretValue. */
  public ValueAnswer getValue(
      Caller caller, String namespace, String name, String versionStage, String versionId) {
    return value(caller, namespace, name, versionStage, versionId, true);
  }

  /**
   * GetSecretValue from what is cached (decision, data key) and in the informer caches; null when
   * answering needs a call that may block (SubjectAccessReview, KMS, a verification request), so
   * the caller runs {@link #getValue} off the event loop instead. Never blocks.
   */
  public ValueAnswer getValueIfCached(
      Caller caller, String namespace, String name, String versionStage, String versionId) {
    return value(caller, namespace, name, versionStage, versionId, false);
  }

  private ValueAnswer value(
      Caller caller,
      String namespace,
      String name,
      String versionStage,
      String versionId,
      boolean mayBlock) {
    AccessReviewer.Decision decision =
        mayBlock
            ? reviewer.review(caller, "get", namespace, name, "value")
            : reviewer.reviewIfCached(caller, "get", namespace, name, "value");
    if (decision == null) {
      return null;
    }
    if (!decision.allowed()) {
      throw new AccessDeniedException(true, decision.reason());
    }
    ManagedSecret secret = find(namespace, name);
    SecretVersion version = resolve(secret, versionStage, versionId);
    SecretValue value;
    try {
      Optional<Envelope> found =
          mayBlock
              ? catalog.envelope(secret, version.getVersionId())
              : catalog.cachedEnvelope(secret, version.getVersionId());
      if (found.isEmpty() && !mayBlock) {
        return null; // the watch may lag behind a write: ask the store, off the event loop
      }
      Envelope envelope =
          found.orElseThrow(
              () ->
                  new MissingCiphertextException(version.getVersionId(), "the operator namespace"));
      value =
          mayBlock
              ? versions.unseal(secret, version.getVersionId(), envelope)
              : versions.unsealIfCached(secret, version.getVersionId(), envelope);
    } catch (CorruptEnvelopeException | MissingCiphertextException e) {
      if (!mayBlock) {
        return null; // asking for a verification is a call to the API server
      }
      requestVerification(secret, e.reason());
      throw e;
    }
    if (value == null) {
      return null;
    }
    ObjectNode body = json.createObjectNode();
    body.put("ARN", arn(namespace, name));
    body.put("Name", name);
    body.put("Namespace", namespace);
    body.put("VersionId", version.getVersionId());
    ArrayNode stages = body.putArray("VersionStages");
    version.getStages().forEach(stages::add);
    byte[] bytes = value.bytes();
    String text = utf8(bytes);
    if (text != null) {
      body.put("SecretString", text);
    } else {
      body.put("SecretBinary", Base64.getEncoder().encodeToString(bytes));
    }
    java.util.Arrays.fill(bytes, (byte) 0);
    value.wipe();
    body.put("CreatedDate", version.getCreatedDate());
    return new ValueAnswer(version.getVersionId(), body);
  }

  /**
   * A value that cannot be read makes the operator check the secret now, so its status says so
   * within one reconciliation; asked once, not on every failing read, while the status already
   * tells.
   */
  private void requestVerification(ManagedSecret secret, String reason) {
    boolean reported =
        secret.getStatus() != null
            && secret.getStatus().getConditions().stream()
                .anyMatch(
                    c ->
                        ManagedSecretConditions.DEGRADED.equals(c.getType())
                            && "True".equals(c.getStatus())
                            && reason.equals(c.getReason()));
    if (reported) {
      return;
    }
    ObjectNode patch = json.createObjectNode();
    patch
        .putObject("metadata")
        .putObject("annotations")
        .put(ManagedSecret.VERIFY_ANNOTATION, Instant.now().toString());
    try {
      client
          .resources(ManagedSecret.class)
          .inNamespace(secret.getMetadata().getNamespace())
          .withName(secret.getMetadata().getName())
          .patch(
              io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                  io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
              patch.toString());
    } catch (RuntimeException e) {
      // The caller's answer does not depend on it; the record watch brings the check anyway.
    }
  }

  /**
   * The CURRENT version id, for long-polls; authorization is checked by the caller of this method
   * first.
   */
  public String currentVersion(String namespace, String name) {
    ManagedSecret secret = find(namespace, name);
    return secret.getStatus() == null ? null : secret.getStatus().getCurrentVersionId();
  }

  /** DescribeSecret. */
  public ObjectNode describe(Caller caller, String namespace, String name) {
    authorize(caller, "get", namespace, name, null);
    ManagedSecret secret = find(namespace, name);
    ObjectNode body = json.createObjectNode();
    body.put("ARN", arn(namespace, name));
    body.put("Name", name);
    body.put("Namespace", namespace);
    body.put("Description", secret.getSpec().getDescription());
    body.put(
        "KmsKeyId",
        secret.getSpec().getKmsKeyId() == null ? "default" : secret.getSpec().getKmsKeyId());
    body.put("CreatedDate", secret.getMetadata().getCreationTimestamp());
    var status = secret.getStatus();
    if (status != null) {
      body.put("LastRotatedDate", status.getLastRotatedAt());
      body.put("NextRotationDate", status.getNextRotationAt());
      ObjectNode map = body.putObject("VersionIdsToStages");
      status
          .getVersions()
          .forEach(
              v -> {
                ArrayNode stages = map.putArray(v.getVersionId());
                v.getStages().forEach(stages::add);
              });
    }
    return body;
  }

  /** ListSecretVersionIds. */
  public ObjectNode listVersions(Caller caller, String namespace, String name) {
    authorize(caller, "get", namespace, name, null);
    ManagedSecret secret = find(namespace, name);
    ObjectNode body = json.createObjectNode();
    body.put("ARN", arn(namespace, name));
    body.put("Name", name);
    ArrayNode list = body.putArray("Versions");
    if (secret.getStatus() != null) {
      for (SecretVersion v : secret.getStatus().getVersions()) {
        ObjectNode entry = list.addObject();
        entry.put("VersionId", v.getVersionId());
        ArrayNode stages = entry.putArray("VersionStages");
        v.getStages().forEach(stages::add);
        entry.put("CreatedDate", v.getCreatedDate());
        entry.putArray("KmsKeyIds").add(v.getKmsKeyId());
        entry.put("KeyVersion", v.getKeyVersion());
      }
    }
    return body;
  }

  /** PutSecretValue: the new version becomes CURRENT. */
  public ObjectNode putValue(Caller caller, String namespace, String name, JsonNode request) {
    authorize(caller, "update", namespace, name, "value");
    SecretValue value = valueOf(request);
    ManagedSecret secret =
        client.resources(ManagedSecret.class).inNamespace(namespace).withName(name).get();
    if (secret == null) {
      throw ApiException.notFound("ManagedSecret " + namespace + "/" + name + " does not exist");
    }
    if (secret.getStatus() == null || secret.getStatus().getCurrentVersionId() == null) {
      throw RequestException.invalidRequest(
          "ManagedSecret "
              + namespace
              + "/"
              + name
              + " has no CURRENT version yet; wait until it is Ready");
    }
    SecretVersion version;
    try {
      version = versions.putCurrent(secret, value);
    } finally {
      value.wipe();
    }
    ObjectNode body = json.createObjectNode();
    body.put("ARN", arn(namespace, name));
    body.put("Name", name);
    body.put("VersionId", version.getVersionId());
    body.putArray("VersionStages").add(SecretVersion.CURRENT);
    return body;
  }

  /** RotateSecret: recorded as the rotate-now annotation, which the rotation machinery acts on. */
  public ObjectNode rotate(Caller caller, String namespace, String name) {
    authorize(caller, "rotate", namespace, name, "value");
    find(namespace, name);
    String requested = Instant.now().toString();
    // A merge patch of one annotation carries no resourceVersion: concurrent writers of the status
    // or of other fields never make it fail.
    ObjectNode patch = json.createObjectNode();
    patch
        .putObject("metadata")
        .putObject("annotations")
        .put(ManagedSecret.ROTATE_NOW_ANNOTATION, requested);
    client
        .resources(ManagedSecret.class)
        .inNamespace(namespace)
        .withName(name)
        .patch(
            io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
            patch.toString());
    ObjectNode body = json.createObjectNode();
    body.put("ARN", arn(namespace, name));
    body.put("Name", name);
    body.put("RotationRequested", requested);
    return body;
  }

  /** GetRandomPassword: AWS parameter names, as query parameters. */
  public ObjectNode randomPassword(Map<String, String> params) {
    GenerateSpec spec = new GenerateSpec();
    try {
      if (params.containsKey("PasswordLength")) {
        spec.setPasswordLength(Integer.parseInt(params.get("PasswordLength")));
      }
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("PasswordLength must be a whole number");
    }
    spec.setExcludeCharacters(params.get("ExcludeCharacters"));
    spec.setExcludeNumbers(bool(params, "ExcludeNumbers"));
    spec.setExcludePunctuation(bool(params, "ExcludePunctuation"));
    spec.setExcludeUppercase(bool(params, "ExcludeUppercase"));
    spec.setExcludeLowercase(bool(params, "ExcludeLowercase"));
    spec.setIncludeSpace(bool(params, "IncludeSpace"));
    spec.setRequireEachIncludedType(
        !params.containsKey("RequireEachIncludedType") || bool(params, "RequireEachIncludedType"));
    PasswordPolicy policy;
    try {
      policy = PasswordPolicy.from(spec, "request");
    } catch (InvalidSpecException e) {
      throw ApiException.badRequest(
          e.getMessage()
              .replaceFirst("^request\\.?", "")
              .replace("passwordLength", "PasswordLength")
              .replace("excludeCharacters", "ExcludeCharacters")
              .strip());
    }
    ObjectNode body = json.createObjectNode();
    body.put("RandomPassword", PasswordGenerator.generate(policy));
    return body;
  }

  private static Boolean bool(Map<String, String> params, String name) {
    String value = params.get(name);
    if (value == null) {
      return false;
    }
    if (!value.equals("true") && !value.equals("false")) {
      throw ApiException.badRequest(name + " must be true or false");
    }
    return Boolean.parseBoolean(value);
  }

  private SecretValue valueOf(JsonNode request) {
    if (request == null || !request.isObject()) {
      throw ApiException.badRequest(
          "the body must be a JSON object with SecretString or SecretBinary");
    }
    boolean string = request.hasNonNull("SecretString");
    boolean binary = request.hasNonNull("SecretBinary");
    if (string == binary) {
      throw ApiException.badRequest("set exactly one of SecretString or SecretBinary");
    }
    String field = string ? "SecretString" : "SecretBinary";
    byte[] bytes = string ? secretString(request.get(field)) : secretBinary(request.get(field));
    // The limit counts the value's bytes (UTF-8, or decoded base64), as AWS does, never its JSON.
    if (bytes.length > KeywardenApi.MAX_VALUE_BYTES) {
      throw RequestException.tooLarge(
          "the "
              + field
              + " value is "
              + bytes.length
              + " bytes; the limit is "
              + KeywardenApi.MAX_VALUE_BYTES);
    }
    if (bytes.length == 0) {
      throw ApiException.badRequest(field + " is empty");
    }
    SecretValue value = SecretValue.of(bytes);
    java.util.Arrays.fill(bytes, (byte) 0);
    return value;
  }

  /**
   * The UTF-8 bytes of a SecretString, which must be a JSON string that UTF-8 can encode: a JSON
   * escape such as {@code \\ud800} decodes to an unpaired surrogate, which {@link String#getBytes}
   * would silently store as {@code ?}.
   */
  static byte[] secretString(JsonNode node) {
    if (!node.isTextual()) {
      throw ApiException.badRequest(
          "SecretString must be a JSON string, not " + node.getNodeType());
    }
    String text = node.textValue();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw ApiException.badRequest(
            String.format(
                "SecretString holds an unpaired UTF-16 surrogate \\u%04x at character %d, which"
                    + " has no UTF-8 form; send text as valid Unicode, or bytes as SecretBinary",
                (int) c, i));
      }
    }
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The bytes of a SecretBinary, which must be canonical base64 (RFC 4648 section 4: the standard
   * alphabet with '=' padding, no line breaks): the JDK decoder alone also takes missing padding
   * and stray trailing bits, so two spellings would store one value.
   */
  static byte[] secretBinary(JsonNode node) {
    String problem =
        "SecretBinary must be a JSON string of canonical base64 (RFC 4648 section 4: the"
            + " standard alphabet, '=' padding, no line breaks or spaces)";
    if (!node.isTextual()) {
      throw ApiException.badRequest(problem + ", not " + node.getNodeType());
    }
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(node.textValue());
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(problem);
    }
    if (!Base64.getEncoder().encodeToString(bytes).equals(node.textValue())) {
      java.util.Arrays.fill(bytes, (byte) 0);
      throw ApiException.badRequest(problem);
    }
    return bytes;
  }

  private ManagedSecret find(String namespace, String name) {
    return catalog
        .find(namespace, name)
        .orElseThrow(
            () ->
                ApiException.notFound(
                    "ManagedSecret " + namespace + "/" + name + " does not exist"));
  }

  private static SecretVersion resolve(
      ManagedSecret secret, String versionStage, String versionId) {
    String where = secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName();
    if (versionStage != null && !STAGES.contains(versionStage)) {
      throw ApiException.badRequest("versionStage must be one of CURRENT, PREVIOUS, PENDING");
    }
    var all =
        secret.getStatus() == null
            ? java.util.List.<SecretVersion>of()
            : secret.getStatus().getVersions();
    if (versionId != null) {
      SecretVersion version =
          all.stream()
              .filter(v -> v.getVersionId().equals(versionId))
              .findFirst()
              .orElseThrow(() -> ApiException.notFound(where + " has no version " + versionId));
      if (versionStage != null && !version.getStages().contains(versionStage)) {
        throw ApiException.badRequest(
            "version " + versionId + " does not have stage " + versionStage);
      }
      return version;
    }
    String stage = versionStage == null ? SecretVersion.CURRENT : versionStage;
    return all.stream()
        .filter(v -> v.getStages().contains(stage))
        .findFirst()
        .orElseThrow(() -> ApiException.notFound(where + " has no version with stage " + stage));
  }

  private static String utf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  static String arn(String namespace, String name) {
    return "keywarden:" + KeywardenApi.GROUP + ":" + namespace + ":managedsecret/" + name;
  }
}
