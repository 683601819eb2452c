package io.keywarden.operator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.GenerateSpec;
import io.keywarden.api.v1alpha1.KeywardenApi;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.access.AccessReviewer;
import io.keywarden.operator.access.Caller;
import io.keywarden.operator.api.Shapes.BatchError;
import io.keywarden.operator.api.Shapes.BatchGetSecretValueResponse;
import io.keywarden.operator.api.Shapes.DeleteSecretResponse;
import io.keywarden.operator.api.Shapes.GetRandomPasswordResponse;
import io.keywarden.operator.api.Shapes.ListSecretVersionIdsResponse;
import io.keywarden.operator.api.Shapes.ListSecretsResponse;
import io.keywarden.operator.api.Shapes.PutSecretValueResponse;
import io.keywarden.operator.api.Shapes.RestoreSecretResponse;
import io.keywarden.operator.api.Shapes.RotateSecretResponse;
import io.keywarden.operator.api.Shapes.SecretDescription;
import io.keywarden.operator.api.Shapes.SecretValueEntry;
import io.keywarden.operator.api.Shapes.Tag;
import io.keywarden.operator.api.Shapes.VersionEntry;
import io.keywarden.operator.config.Caches;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.AccessDeniedException;
import io.keywarden.operator.failure.CorruptEnvelopeException;
import io.keywarden.operator.failure.Failure;
import io.keywarden.operator.failure.InvalidSpecException;
import io.keywarden.operator.failure.MissingCiphertextException;
import io.keywarden.operator.failure.RequestException;
import io.keywarden.operator.generate.PasswordGenerator;
import io.keywarden.operator.generate.PasswordPolicy;
import io.keywarden.operator.versions.DeletedSecrets;
import io.keywarden.operator.versions.SecretVersions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * The operations of the secret-value API, one implementation each, answering the {@link Shapes}
 * that both protocols (the REST paths and AWS Secrets Manager's awsJson1.1) render. Authorization
 * comes first, so a caller without rights learns nothing about whether a secret exists.
 */
public final class SecretValueApi {

  private static final Logger LOG = Logger.getLogger(SecretValueApi.class);

  /**
   * How long a PutSecretValue waits for the watch to deliver its own write before it answers; a
   * GetSecretValue that follows on this replica then returns the new value.
   */
  private static final Duration READ_YOUR_WRITES = Duration.ofSeconds(3);

  /** ListSecrets' and ListSecretVersionIds' page size when the caller names none (AWS's too). */
  static final int DEFAULT_PAGE = 100;

  /** How ListSecrets orders: AWS's SortBy values Keywarden can honour. */
  public enum SortBy {
    CREATED_DATE("created-date"),
    NAME("name"),
    LAST_CHANGED_DATE("last-changed-date");

    private final String aws;

    SortBy(String aws) {
      this.aws = aws;
    }

    public String aws() {
      return aws;
    }
  }

  /** A PutSecretValue request, parsed: the value and the optional ClientRequestToken. */
  public record PutRequest(SecretValue value, String clientRequestToken) {}

  private final KubernetesClient client;
  private final SecretCatalog catalog;
  private final SecretVersions versions;
  private final AccessReviewer reviewer;
  private final ObjectMapper json;
  private final SecretArns arns;
  private final String region;
  private final DeletedSecrets deletedSecrets;

  public SecretValueApi(
      KubernetesClient client,
      SecretCatalog catalog,
      SecretVersions versions,
      DeletedSecrets deletedSecrets,
      AccessReviewer reviewer,
      ObjectMapper json,
      String region,
      String accountId) {
    this.client = client;
    this.catalog = catalog;
    this.versions = versions;
    this.deletedSecrets = deletedSecrets;
    this.reviewer = reviewer;
    this.json = json;
    this.region = region;
    this.arns = new SecretArns(region, accountId);
  }

  public SecretArns arns() {
    return arns;
  }

  public void authorize(
      Caller caller, String verb, String namespace, String name, String subresource) {
    AccessReviewer.Decision decision = reviewer.review(caller, verb, namespace, name, subresource);
    if (!decision.allowed()) {
      throw new AccessDeniedException(true, decision.reason());
    }
  }

  /**
   * Asks for the decision GetSecretValue of this secret needs, when not cached, without blocking:
   * completes once {@link #getValueIfCached} can use it (or it failed; the answer then reports it).
   */
  public CompletableFuture<?> warmValueDecision(Caller caller, SecretId id) {
    return reviewer.reviewAsync(caller, "get", id.namespace(), id.name(), "value");
  }

  private void authorize(Caller caller, String verb, SecretId id, String subresource) {
    authorize(caller, verb, id.namespace(), id.name(), subresource);
  }

  // ---- reading values

  /** GetSecretValue: by VersionId, by stage, or CURRENT. */
  public SecretValueEntry getValue(
      Caller caller, SecretId id, VersionStage stage, String versionId) {
    return value(caller, id, stage, versionId, true);
  }

  /**
   * GetSecretValue from what is cached (decision, data key, last-accessed day) and in the informer
   * caches; null when answering needs a call that may block (SubjectAccessReview, KMS, a status
   * write, a verification request), so the caller runs {@link #getValue} off the event loop
   * instead. Never blocks.
   */
  public SecretValueEntry getValueIfCached(
      Caller caller, SecretId id, VersionStage stage, String versionId) {
    return value(caller, id, stage, versionId, false);
  }

  private SecretValueEntry value(
      Caller caller, SecretId id, VersionStage stage, String versionId, boolean mayBlock) {
    AccessReviewer.Decision decision =
        mayBlock
            ? reviewer.review(caller, "get", id.namespace(), id.name(), "value")
            : reviewer.reviewIfCached(caller, "get", id.namespace(), id.name(), "value");
    if (decision == null) {
      return null;
    }
    if (!decision.allowed()) {
      throw new AccessDeniedException(true, decision.reason());
    }
    ManagedSecret secret = find(id);
    if (!mayBlock && !versions.accessRecorded(secret)) {
      return null; // recording today's access is a status write
    }
    SecretVersion version = resolve(secret, stage, versionId);
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
    // The form it was put in: bytes put as SecretBinary come back as SecretBinary even when they
    // are valid UTF-8.
    String text = value.isBinary() ? null : value.asString();
    byte[] bytes = value.isBinary() ? value.bytes() : null;
    value.wipe();
    if (mayBlock) {
      versions.accessed(secret);
    }
    return new SecretValueEntry(
        arns.arn(secret),
        id.name(),
        id.namespace(),
        version.getVersionId(),
        text,
        bytes,
        stages(version.getStages()),
        date(version.getCreatedDate()));
  }

  /**
   * BatchGetSecretValue by SecretIdList: each secret answers its value or an entry in Errors, as
   * AWS does; the request itself fails only when it is malformed.
   */
  public BatchGetSecretValueResponse batchGet(Caller caller, List<String> secretIds) {
    List<SecretValueEntry> values = new ArrayList<>();
    List<BatchError> errors = new ArrayList<>();
    for (int i = 0; i < secretIds.size(); i++) {
      String raw = secretIds.get(i);
      try {
        SecretId id = SecretId.parse("SecretIdList[" + i + "]", raw, caller, arns);
        values.add(getValue(caller, id, null, null));
      } catch (RuntimeException e) {
        errors.add(batchError(raw, e));
      }
    }
    return new BatchGetSecretValueResponse(values, errors, null);
  }

  /**
   * BatchGetSecretValue by Filters: the values of the secrets ListSecrets would list, a page at a
   * time; a listed secret whose value the caller may not read is an entry in Errors.
   */
  public BatchGetSecretValueResponse batchGet(
      Caller caller, SecretFilters filters, int maxResults, String nextToken) {
    Page page =
        page(caller, filters, SortBy.NAME, false, maxResults, nextToken, "BatchGetSecretValue");
    List<SecretValueEntry> values = new ArrayList<>();
    List<BatchError> errors = new ArrayList<>();
    for (ManagedSecret secret : page.secrets()) {
      SecretId id =
          SecretId.of(secret.getMetadata().getNamespace(), secret.getMetadata().getName());
      try {
        values.add(getValue(caller, id, null, null));
      } catch (RuntimeException e) {
        errors.add(batchError(arns.arn(secret), e));
      }
    }
    return new BatchGetSecretValueResponse(values, errors, page.nextToken());
  }

  private static BatchError batchError(String secretId, RuntimeException e) {
    ApiError error = ApiError.of(e);
    if (Failure.of(e) == Failure.INTERNAL) {
      LOG.errorf(e, "unexpected error in BatchGetSecretValue");
    }
    return new BatchError(secretId, error.type(), error.message());
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
    ManagedSecret secret = find(SecretId.of(namespace, name));
    return secret.getStatus() == null ? null : secret.getStatus().getCurrentVersionId();
  }

  // ---- describing

  /** DescribeSecret. */
  public SecretDescription describe(Caller caller, SecretId id) {
    authorize(caller, "get", id, null);
    return description(find(id));
  }

  private SecretDescription description(ManagedSecret secret) {
    var status = secret.getStatus();
    Map<String, List<VersionStage>> map = new LinkedHashMap<>();
    if (status != null) {
      for (SecretVersion v : status.getVersions()) {
        map.put(v.getVersionId(), stages(v.getStages()));
      }
    }
    Map<String, String> labels =
        secret.getMetadata().getLabels() == null
            ? Map.of()
            : new TreeMap<>(secret.getMetadata().getLabels());
    List<Tag> tags =
        labels.entrySet().stream().map(e -> new Tag(e.getKey(), e.getValue())).toList();
    return new SecretDescription(
        arns.arn(secret),
        secret.getMetadata().getName(),
        secret.getMetadata().getNamespace(),
        secret.getSpec().getDescription(),
        secret.getSpec().getKmsKeyId() == null ? "default" : secret.getSpec().getKmsKeyId(),
        status != null && status.getNextRotationAt() != null,
        date(secret.getMetadata().getCreationTimestamp()),
        lastChanged(secret),
        status == null ? null : date(status.getLastRotatedAt()),
        status == null ? null : date(status.getNextRotationAt()),
        status == null ? null : date(status.getLastAccessedDate()),
        tags.isEmpty() ? null : tags,
        map,
        null);
  }

  /** The newest version's date: when the value last changed. */
  private static Instant lastChanged(ManagedSecret secret) {
    Instant created = date(secret.getMetadata().getCreationTimestamp());
    if (secret.getStatus() == null) {
      return created;
    }
    return secret.getStatus().getVersions().stream()
        .map(v -> date(v.getCreatedDate()))
        .filter(Objects::nonNull)
        .max(Comparator.naturalOrder())
        .orElse(created);
  }

  /** ListSecretVersionIds; deprecated versions (no label) only with includeDeprecated. */
  public ListSecretVersionIdsResponse listVersions(
      Caller caller, SecretId id, boolean includeDeprecated, int maxResults, String nextToken) {
    authorize(caller, "get", id, null);
    ManagedSecret secret = find(id);
    List<SecretVersion> all =
        secret.getStatus() == null
            ? List.of()
            : secret.getStatus().getVersions().stream()
                .filter(v -> includeDeprecated || !v.getStages().isEmpty())
                .toList();
    String query = "ListSecretVersionIds " + id.qualified() + " " + includeDeprecated;
    String after = PageToken.after(query, nextToken);
    int from = 0;
    if (after != null) {
      from = -1;
      for (int i = 0; i < all.size(); i++) {
        if (all.get(i).getVersionId().equals(after)) {
          from = i + 1;
        }
      }
      if (from < 0) {
        throw RequestException.invalidNextToken(
            "NextToken points after version "
                + after
                + ", which is gone meanwhile; list again without NextToken");
      }
    }
    int end = (int) Math.min(all.size(), (long) from + maxResults);
    List<SecretVersion> shown = all.subList(from, end);
    String next =
        end < all.size() ? PageToken.next(query, shown.get(shown.size() - 1).getVersionId()) : null;
    List<VersionEntry> entries =
        shown.stream()
            .map(
                v ->
                    new VersionEntry(
                        v.getVersionId(),
                        stages(v.getStages()),
                        date(v.getCreatedDate()),
                        v.getKmsKeyId() == null ? null : List.of(v.getKmsKeyId()),
                        v.getKeyVersion()))
            .toList();
    return new ListSecretVersionIdsResponse(
        arns.arn(secret), id.name(), id.namespace(), entries, next);
  }

  /**
   * ListSecrets: the secrets of every namespace the caller may describe (RBAC {@code get
   * managedsecrets}: for a whole namespace at once, or secret by secret), filtered and sorted, a
   * page at a time.
   */
  public ListSecretsResponse listSecrets(
      Caller caller,
      SecretFilters filters,
      SortBy sortBy,
      boolean descending,
      int maxResults,
      String nextToken) {
    Page page = page(caller, filters, sortBy, descending, maxResults, nextToken, "ListSecrets");
    return new ListSecretsResponse(
        page.secrets().stream().map(s -> description(s).asListEntry()).toList(), page.nextToken());
  }

  private record Page(List<ManagedSecret> secrets, String nextToken) {}

  private Page page(
      Caller caller,
      SecretFilters filters,
      SortBy sortBy,
      boolean descending,
      int maxResults,
      String nextToken,
      String operation) {
    String query = operation + " " + filters.fingerprint() + " " + sortBy + " " + descending;
    String after = PageToken.after(query, nextToken);
    Function<ManagedSecret, String> key = sortKey(sortBy);
    Comparator<String> order = descending ? Comparator.reverseOrder() : Comparator.naturalOrder();
    Map<String, Boolean> namespaceWide = new java.util.HashMap<>();
    List<ManagedSecret> visible =
        catalog.all().stream()
            .filter(s -> filters.matches(s, region))
            .filter(s -> after == null || order.compare(key.apply(s), after) > 0)
            .sorted(Comparator.comparing(key, order))
            .filter(s -> mayDescribe(caller, s, namespaceWide))
            .limit(maxResults + 1L)
            .toList();
    if (visible.size() <= maxResults) {
      return new Page(visible, null);
    }
    List<ManagedSecret> shown = visible.subList(0, maxResults);
    return new Page(shown, PageToken.next(query, key.apply(shown.get(maxResults - 1))));
  }

  /**
   * A string per secret that sorts as the listing does; unique, since it ends in namespace/name.
   */
  private static Function<ManagedSecret, String> sortKey(SortBy sortBy) {
    Function<ManagedSecret, String> qualified =
        s -> s.getMetadata().getNamespace() + "/" + s.getMetadata().getName();
    return switch (sortBy) {
      case NAME -> qualified;
      case CREATED_DATE ->
          s -> epoch(date(s.getMetadata().getCreationTimestamp())) + " " + qualified.apply(s);
      case LAST_CHANGED_DATE -> s -> epoch(lastChanged(s)) + " " + qualified.apply(s);
    };
  }

  private static String epoch(Instant instant) {
    return String.format("%020d", instant == null ? 0 : instant.getEpochSecond());
  }

  /** A namespace-wide grant answers for all its secrets with one review. */
  private boolean mayDescribe(Caller caller, ManagedSecret secret, Map<String, Boolean> wide) {
    String namespace = secret.getMetadata().getNamespace();
    boolean all =
        wide.computeIfAbsent(
            namespace, ns -> reviewer.review(caller, "get", ns, null, null).allowed());
    return all
        || reviewer
            .review(caller, "get", namespace, secret.getMetadata().getName(), null)
            .allowed();
  }

  // ---- changing

  /**
   * PutSecretValue: the new version becomes CURRENT. A ClientRequestToken becomes the VersionId;
   * repeating it with the same value answers the version it made, with another value fails.
   */
  public PutSecretValueResponse putValue(Caller caller, SecretId id, PutRequest request) {
    authorize(caller, "update", id, "value");
    ManagedSecret secret =
        client.resources(ManagedSecret.class).inNamespace(id.namespace()).withName(id.name()).get();
    if (secret == null || !SecretArns.matches(id, secret)) {
      throw notFound(id);
    }
    if (secret.getStatus() == null || secret.getStatus().getCurrentVersionId() == null) {
      throw RequestException.invalidRequest(
          "ManagedSecret "
              + id.qualified()
              + " has no CURRENT version yet; wait until it is Ready");
    }
    SecretVersions.Put put;
    try {
      put = versions.putCurrent(secret, request.value(), request.clientRequestToken());
    } finally {
      request.value().wipe();
    }
    if (put.written() != null) {
      // Read-your-writes on this replica: reads are answered from the watch cache.
      catalog.awaitWritten(put.written(), READ_YOUR_WRITES);
    }
    return new PutSecretValueResponse(
        arns.arn(secret),
        id.name(),
        id.namespace(),
        put.version().getVersionId(),
        stages(put.version().getStages()));
  }

  /**
   * RotateSecret: recorded as the rotate-now annotation, which the rotation machinery acts on. A
   * ClientRequestToken becomes the new version's VersionId, and asking again with it is idempotent
   * as AWS documents: when a version with that id exists, is being rotated to, or is already asked
   * for, nothing more happens and the answer names it.
   */
  public RotateSecretResponse rotate(Caller caller, SecretId id, String clientRequestToken) {
    authorize(caller, "rotate", id, "value");
    ManagedSecret secret = find(id);
    Instant requested = Instant.now();
    if (clientRequestToken != null && alreadyRequested(secret, clientRequestToken)) {
      return new RotateSecretResponse(
          arns.arn(secret), id.name(), id.namespace(), clientRequestToken, requested);
    }
    // A merge patch of annotations carries no resourceVersion: concurrent writers of the status
    // or of other fields never make it fail. A null removes an earlier request's version id.
    ObjectNode patch = json.createObjectNode();
    ObjectNode annotations = patch.putObject("metadata").putObject("annotations");
    annotations.put(ManagedSecret.ROTATE_NOW_ANNOTATION, requested.toString());
    annotations.put(ManagedSecret.ROTATE_VERSION_ID_ANNOTATION, clientRequestToken);
    client
        .resources(ManagedSecret.class)
        .inNamespace(id.namespace())
        .withName(id.name())
        .patch(
            io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
            patch.toString());
    return new RotateSecretResponse(
        arns.arn(secret), id.name(), id.namespace(), clientRequestToken, requested);
  }

  /** Whether this token's rotation has happened, is under way, or is waiting to start. */
  private static boolean alreadyRequested(ManagedSecret secret, String token) {
    var status = secret.getStatus();
    var annotations = secret.getMetadata().getAnnotations();
    return (status != null
            && (status.getVersions().stream().anyMatch(v -> token.equals(v.getVersionId()))
                || (status.getRotation() != null
                    && token.equals(status.getRotation().getPendingVersionId()))))
        || (annotations != null
            && token.equals(annotations.get(ManagedSecret.ROTATE_VERSION_ID_ANNOTATION)));
  }

  // ---- deletion and restore (AWS's recovery window)

  /**
   * DeleteSecret: deletes the ManagedSecret; its versions are kept for the recovery window (this
   * request's RecoveryWindowInDays, 0 with ForceDeleteWithoutRecovery, or else the secret's
   * spec.deletion.recoveryWindowDays) by the operator's finalizer, which reads the window from the
   * annotation written here just before the delete. DeletionDate is when they are purged.
   */
  public DeleteSecretResponse delete(
      Caller caller, SecretId id, Integer windowDays, boolean force) {
    authorize(caller, "delete", id, "value");
    ManagedSecret secret = find(id);
    int days = force ? 0 : windowDays != null ? windowDays : secret.getSpec().recoveryWindowDays();
    ObjectNode patch = json.createObjectNode();
    patch
        .putObject("metadata")
        .putObject("annotations")
        .put(ManagedSecret.DELETION_WINDOW_ANNOTATION, Integer.toString(days));
    var resource =
        client.resources(ManagedSecret.class).inNamespace(id.namespace()).withName(id.name());
    resource.patch(
        io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
            io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
        patch.toString());
    resource.delete();
    ManagedSecret deleting = resource.get();
    if (deleting != null) {
      // A DescribeSecret on this replica right after shows the deletion.
      catalog.awaitWritten(deleting, READ_YOUR_WRITES);
    }
    Instant deletedAt =
        deleting == null || deleting.getMetadata().getDeletionTimestamp() == null
            ? Instant.now()
            : Instant.parse(deleting.getMetadata().getDeletionTimestamp());
    return new DeleteSecretResponse(
        arns.arn(secret),
        id.name(),
        id.namespace(),
        days == 0 ? deletedAt : deletedSecrets.purgeAt(deletedAt, days),
        days);
  }

  /**
   * RestoreSecret: re-creates the ManagedSecret of a deletion whose window is open, with the spec
   * it had and the restore annotation, so the operator brings back its versions (the one restore
   * path, see {@link DeletedSecrets}). Only the deletion of this very namespace and name is looked
   * at.
   */
  public RestoreSecretResponse restore(Caller caller, SecretId id) {
    authorize(caller, "restore", id, "value");
    awaitGoneIfDeleting(id);
    if (catalog.find(id.namespace(), id.name()).isPresent()) {
      throw RequestException.invalidRequest(
          "ManagedSecret "
              + id.qualified()
              + " exists and is not deleted; RestoreSecret brings back a deleted one");
    }
    DeletedSecrets.Deleted deleted =
        deletedSecrets
            .find(id.namespace(), id.name(), null, Instant.now())
            .map(deletedSecrets::parse)
            .filter(
                d -> id.arnSuffix() == null || id.arnSuffix().equals(SecretArns.suffix(d.uid())))
            .orElseThrow(
                () ->
                    ApiException.notFound(
                        "no deleted ManagedSecret "
                            + id.qualified()
                            + " within its recovery window (never deleted, purged, or already"
                            + " restored)"));
    ManagedSecret fresh = new ManagedSecret();
    fresh.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
            .withName(id.name())
            .withNamespace(id.namespace())
            .addToAnnotations(ManagedSecret.RESTORE_ANNOTATION, "true")
            .build());
    fresh.setSpec(deleted.spec());
    ManagedSecret created;
    try {
      created =
          client
              .resources(ManagedSecret.class)
              .inNamespace(id.namespace())
              .resource(fresh)
              .create();
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      if (e.getCode() == 409) {
        throw RequestException.invalidRequest(
            "ManagedSecret " + id.qualified() + " was created meanwhile; it is not restored");
      }
      throw e;
    }
    return new RestoreSecretResponse(arns.arn(created), id.name(), id.namespace());
  }

  /**
   * A RestoreSecret right after DeleteSecret may find the object still there while its finalizer
   * keeps the versions (well under a second): it waits for that, a few seconds at most.
   */
  private void awaitGoneIfDeleting(SecretId id) {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    while (catalog
            .find(id.namespace(), id.name())
            .filter(s -> s.getMetadata().getDeletionTimestamp() != null)
            .isPresent()
        && System.nanoTime() < deadline) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** GetRandomPassword: AWS's parameters, as GenerateSpec holds them. */
  public GetRandomPasswordResponse randomPassword(GenerateSpec spec) {
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
    return new GetRandomPasswordResponse(PasswordGenerator.generate(policy));
  }

  // ---- parsing shared by both protocols

  /**
   * A PutSecretValue body: exactly one of SecretString and SecretBinary, and optionally
   * ClientRequestToken (32 to 64 visible ASCII characters, as AWS's model allows).
   */
  public static PutRequest putRequest(JsonNode request) {
    if (request == null || !request.isObject()) {
      throw ApiException.badRequest(
          "the body must be a JSON object with SecretString or SecretBinary");
    }
    String token = null;
    if (request.hasNonNull("ClientRequestToken")) {
      token = clientRequestToken(request.get("ClientRequestToken"));
    }
    return new PutRequest(valueOf(request), token);
  }

  static String clientRequestToken(JsonNode node) {
    if (!node.isTextual()) {
      throw ApiException.badRequest(
          "ClientRequestToken must be a JSON string, not " + node.getNodeType());
    }
    String token = node.textValue();
    if (token.length() < 32 || token.length() > 64 || !token.matches("[\\x21-\\x7e]+")) {
      throw ApiException.badRequest(
          "ClientRequestToken must be 32 to 64 visible ASCII characters (a UUID is best); it"
              + " becomes the new version's VersionId");
    }
    return token;
  }

  private static SecretValue valueOf(JsonNode request) {
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
    SecretValue value = string ? SecretValue.text(bytes) : SecretValue.binary(bytes);
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

  private ManagedSecret find(SecretId id) {
    return catalog
        .find(id.namespace(), id.name())
        .filter(s -> SecretArns.matches(id, s))
        .orElseThrow(() -> notFound(id));
  }

  private static RuntimeException notFound(SecretId id) {
    return ApiException.notFound(
        "ManagedSecret "
            + id.qualified()
            + " does not exist"
            + (id.arnSuffix() == null ? "" : " (or the ARN names an earlier secret of that name)"));
  }

  private static SecretVersion resolve(
      ManagedSecret secret, VersionStage versionStage, String versionId) {
    String where = secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName();
    var all =
        secret.getStatus() == null ? List.<SecretVersion>of() : secret.getStatus().getVersions();
    if (versionId != null) {
      SecretVersion version =
          all.stream()
              .filter(v -> v.getVersionId().equals(versionId))
              .findFirst()
              .orElseThrow(() -> ApiException.notFound(where + " has no version " + versionId));
      if (versionStage != null && !version.getStages().contains(versionStage.keywarden())) {
        throw ApiException.badRequest(
            "version " + versionId + " does not have stage " + versionStage.keywarden());
      }
      return version;
    }
    String stage = versionStage == null ? SecretVersion.CURRENT : versionStage.keywarden();
    return all.stream()
        .filter(v -> v.getStages().contains(stage))
        .findFirst()
        .orElseThrow(() -> ApiException.notFound(where + " has no version with stage " + stage));
  }

  private static List<VersionStage> stages(List<String> labels) {
    List<VersionStage> stages = new ArrayList<>(labels.size());
    for (String label : labels) {
      VersionStage.ofStatus(label).ifPresent(stages::add);
    }
    return stages;
  }

  /**
   * A status or metadata date (ISO-8601); null stays null. Parsed once per distinct text: every
   * GetSecretValue answers its version's CreatedDate, and parsing it was 4 % of a cached read.
   */
  private static Instant date(String iso) {
    return iso == null ? null : DATES.get(iso, Instant::parse);
  }

  private static final Cache<String, Instant> DATES =
      Caches.onCallingThread().maximumSize(10_000).build();
}
