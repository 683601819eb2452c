package io.keywarden.operator.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.keywarden.api.v1alpha1.GenerateSpec;
import io.keywarden.operator.access.Caller;
import io.keywarden.operator.failure.RequestException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * AWS Secrets Manager's wire protocol, awsJson1.1 (botocore's service model secretsmanager
 * 2017-10-17): {@code POST /} with {@code X-Amz-Target: secretsmanager.<Operation>}, members in the
 * JSON body. Each served operation parses its members here and calls the one implementation in
 * {@link SecretValueApi}; operations that belong to ManagedSecret objects answer an AWS error that
 * names the Kubernetes way. docs/aws-compatibility.md lists all of it, member by member.
 */
final class AwsJsonProtocol {

  static final String TARGET_PREFIX = "secretsmanager.";

  /** What an operation answered, and the version it is about (for the audit line). */
  record Answer(Object body, String versionId) {}

  static final Set<String> SERVED =
      Set.of(
          "GetSecretValue",
          "DescribeSecret",
          "BatchGetSecretValue",
          "ListSecretVersionIds",
          "ListSecrets",
          "PutSecretValue",
          "RotateSecret",
          "DeleteSecret",
          "RestoreSecret",
          "GetRandomPassword");

  private static final String APPLY = "kubectl apply a ManagedSecret (docs/managedsecret.md)";

  /** The model's other operations, and what to do instead. */
  static final Map<String, String> KUBERNETES_WAY =
      Map.ofEntries(
          Map.entry("CreateSecret", "secrets are ManagedSecret objects: " + APPLY),
          Map.entry("UpdateSecret", "change the ManagedSecret's spec: " + APPLY),
          Map.entry("TagResource", "tags are the ManagedSecret's labels: kubectl label"),
          Map.entry("UntagResource", "tags are the ManagedSecret's labels: kubectl label"),
          Map.entry(
              "PutResourcePolicy",
              "the resource policy is the ManagedSecret's spec.access (Kubernetes RBAC): " + APPLY),
          Map.entry(
              "GetResourcePolicy",
              "the resource policy is the ManagedSecret's spec.access: kubectl get managedsecret"
                  + " NAME -o yaml"),
          Map.entry(
              "DeleteResourcePolicy",
              "the resource policy is the ManagedSecret's spec.access (Kubernetes RBAC): " + APPLY),
          Map.entry(
              "ValidateResourcePolicy",
              "access is Kubernetes RBAC: kubectl auth can-i get managedsecrets/value"
                  + " --subresource ... --as=system:serviceaccount:NS:SA"),
          Map.entry(
              "ListResourcePolicies",
              "access is Kubernetes RBAC: kubectl get roles,rolebindings -n NAMESPACE"),
          Map.entry(
              "ReplicateSecretToRegions",
              "Keywarden does not replicate; apply the ManagedSecret in each cluster"),
          Map.entry(
              "RemoveRegionsFromReplication",
              "Keywarden does not replicate; apply the ManagedSecret in each cluster"),
          Map.entry(
              "StopReplicationToReplica",
              "Keywarden does not replicate; apply the ManagedSecret in each cluster"),
          Map.entry(
              "AssociateCrossAccountReplica",
              "Keywarden does not replicate; apply the ManagedSecret in each cluster"),
          Map.entry(
              "DisassociateCrossAccountReplica",
              "Keywarden does not replicate; apply the ManagedSecret in each cluster"),
          Map.entry(
              "CancelRotateSecret",
              "rotations are RotationSchedule objects: kubectl patch rotationschedule NAME"
                  + " --type merge -p '{\"spec\":{\"suspend\":true}}' (docs/rotation.md)"),
          Map.entry(
              "UpdateSecretVersionStage",
              "stages move by PutSecretValue and rotations only; rotate with kubectl annotate"
                  + " managedsecret NAME keywarden.io/rotate-now=now"));

  private static final String ROTATION_BY_SCHEDULE =
      "rotation is configured by a RotationSchedule object (kubectl apply, docs/rotation.md)";

  private final SecretValueApi api;

  AwsJsonProtocol(SecretValueApi api) {
    this.api = api;
  }

  /**
   * The operation an X-Amz-Target names, for metrics and the audit line: one of the model's, or
   * "UnknownOperation", so a client cannot grow the metric labels without end.
   */
  static String action(String target) {
    String operation = operation(target);
    return operation != null
            && (SERVED.contains(operation) || KUBERNETES_WAY.containsKey(operation))
        ? operation
        : "UnknownOperation";
  }

  private static String operation(String target) {
    return target != null && target.startsWith(TARGET_PREFIX)
        ? target.substring(TARGET_PREFIX.length())
        : null;
  }

  /**
   * Runs the operation the target names. {@code secret} learns which secret the request is about as
   * soon as it is known, for the audit line even of a failure.
   */
  Answer handle(String target, Caller caller, JsonNode body, Consumer<SecretId> secret) {
    String operation = operation(target);
    if (operation == null) {
      throw RequestException.unknownOperation(
          target == null
              ? "POST / needs the header X-Amz-Target: secretsmanager.<Operation> (AWS Secrets"
                  + " Manager's awsJson1.1 protocol)"
              : "X-Amz-Target must be secretsmanager.<Operation>, not '" + target + "'");
    }
    String instead = KUBERNETES_WAY.get(operation);
    if (instead != null) {
      throw RequestException.notServed(operation + " is not served by Keywarden: " + instead);
    }
    AwsInput in = AwsInput.of(body);
    return switch (operation) {
      case "GetSecretValue" -> getSecretValue(in, caller, secret);
      case "DescribeSecret" -> new Answer(api.describe(caller, secretId(in, caller, secret)), null);
      case "BatchGetSecretValue" -> batchGetSecretValue(in, caller);
      case "ListSecretVersionIds" -> listSecretVersionIds(in, caller, secret);
      case "ListSecrets" -> listSecrets(in, caller);
      case "PutSecretValue" -> putSecretValue(in, caller, secret);
      case "RotateSecret" -> rotateSecret(in, caller, secret);
      case "DeleteSecret" -> deleteSecret(in, caller, secret);
      case "RestoreSecret" -> new Answer(api.restore(caller, secretId(in, caller, secret)), null);
      case "GetRandomPassword" -> new Answer(api.randomPassword(passwordSpec(in)), null);
      default ->
          throw RequestException.unknownOperation(
              "secretsmanager."
                  + operation
                  + " is no operation of AWS Secrets Manager's model (2017-10-17)");
    };
  }

  private SecretId secretId(AwsInput in, Caller caller, Consumer<SecretId> secret) {
    SecretId id =
        SecretId.parse("SecretId", in.requiredString("SecretId", 1, 2048), caller, api.arns());
    secret.accept(id);
    return id;
  }

  private Answer getSecretValue(AwsInput in, Caller caller, Consumer<SecretId> secret) {
    SecretId id = secretId(in, caller, secret);
    String versionId = in.string("VersionId", 32, 64);
    String stage = in.string("VersionStage", 1, 256);
    var entry =
        api.getValue(
            caller,
            id,
            stage == null ? null : VersionStage.parseAws("VersionStage", stage),
            versionId);
    return new Answer(entry, entry.versionId());
  }

  private Answer batchGetSecretValue(AwsInput in, Caller caller) {
    List<String> ids = in.strings("SecretIdList", 1, 20, 1, 2048);
    SecretFilters filters = in.filters();
    Long max = in.integer("MaxResults", 1, 20);
    String token = in.string("NextToken", 1, 4096);
    if ((ids == null) == (filters == null)) {
      throw RequestException.invalidParameter("set exactly one of SecretIdList or Filters");
    }
    if (ids != null) {
      if (max != null || token != null) {
        throw RequestException.invalidParameter(
            "MaxResults and NextToken go with Filters, not with SecretIdList");
      }
      return new Answer(api.batchGet(caller, ids), null);
    }
    return new Answer(
        api.batchGet(caller, filters, max == null ? 20 : max.intValue(), token), null);
  }

  private Answer listSecretVersionIds(AwsInput in, Caller caller, Consumer<SecretId> secret) {
    SecretId id = secretId(in, caller, secret);
    Long max = in.integer("MaxResults", 1, 100);
    String token = in.string("NextToken", 1, 4096);
    Boolean deprecated = in.bool("IncludeDeprecated");
    return new Answer(
        api.listVersions(
            caller,
            id,
            Boolean.TRUE.equals(deprecated),
            max == null ? SecretValueApi.DEFAULT_PAGE : max.intValue(),
            token),
        null);
  }

  private Answer listSecrets(AwsInput in, Caller caller) {
    SecretFilters filters = in.filters();
    Long max = in.integer("MaxResults", 1, 100);
    String token = in.string("NextToken", 1, 4096);
    // Checked for its type only: a deleted secret within its recovery window is no ManagedSecret
    // any more, so there is nothing to list (RestoreSecret names it).
    in.bool("IncludePlannedDeletion");
    String order = in.string("SortOrder", 1, 4);
    if (order != null && !order.equals("asc") && !order.equals("desc")) {
      throw RequestException.invalidParameter("SortOrder must be asc or desc, not '" + order + "'");
    }
    String by = in.string("SortBy", 1, 32);
    SecretValueApi.SortBy sortBy = SecretValueApi.SortBy.CREATED_DATE;
    if (by != null) {
      sortBy =
          java.util.Arrays.stream(SecretValueApi.SortBy.values())
              .filter(s -> s.aws().equals(by))
              .findFirst()
              .orElseThrow(
                  () ->
                      RequestException.invalidParameter(
                          "SortBy must be created-date, name or last-changed-date"
                              + (by.equals("last-accessed-date")
                                  ? " (Keywarden records no access dates)"
                                  : ", not '" + by + "'")));
    }
    return new Answer(
        api.listSecrets(
            caller,
            filters == null ? SecretFilters.NONE : filters,
            sortBy,
            "desc".equals(order),
            max == null ? SecretValueApi.DEFAULT_PAGE : max.intValue(),
            token),
        null);
  }

  private Answer putSecretValue(AwsInput in, Caller caller, Consumer<SecretId> secret) {
    SecretId id = secretId(in, caller, secret);
    in.refuse("RotationToken", "it is for AWS Lambda rotation functions; " + ROTATION_BY_SCHEDULE);
    List<String> stages = in.strings("VersionStages", 1, 20, 1, 256);
    if (stages != null
        && !(stages.size() == 1
            && VersionStage.parseAws("VersionStages[0]", stages.get(0)) == VersionStage.CURRENT)) {
      throw RequestException.invalidParameter(
          "VersionStages must be absent or [\"AWSCURRENT\"]: a value put through the API becomes"
              + " CURRENT; AWSPENDING and AWSPREVIOUS are moved by rotations ("
              + ROTATION_BY_SCHEDULE
              + ")");
    }
    // The model's length first; the shared parser checks the rest, and the value.
    in.string("ClientRequestToken", 32, 64);
    var answer = api.putValue(caller, id, SecretValueApi.putRequest(in.raw()));
    return new Answer(answer, answer.versionId());
  }

  private Answer rotateSecret(AwsInput in, Caller caller, Consumer<SecretId> secret) {
    SecretId id = secretId(in, caller, secret);
    in.string("ClientRequestToken", 32, 64);
    JsonNode token = in.raw().get("ClientRequestToken");
    String versionId =
        token == null || token.isNull() ? null : SecretValueApi.clientRequestToken(token);
    for (String member :
        List.of(
            "RotationLambdaARN",
            "RotationRules",
            "ExternalSecretRotationMetadata",
            "ExternalSecretRotationRoleArn")) {
      in.refuse(member, ROTATION_BY_SCHEDULE);
    }
    if (Boolean.FALSE.equals(in.bool("RotateImmediately"))) {
      throw RequestException.invalidParameter(
          "RotateImmediately false only schedules a rotation; " + ROTATION_BY_SCHEDULE);
    }
    var answer = api.rotate(caller, id, versionId);
    return new Answer(answer, answer.versionId());
  }

  private Answer deleteSecret(AwsInput in, Caller caller, Consumer<SecretId> secret) {
    SecretId id = secretId(in, caller, secret);
    Long window = in.integer("RecoveryWindowInDays", 7, 30);
    boolean force = Boolean.TRUE.equals(in.bool("ForceDeleteWithoutRecovery"));
    if (force && window != null) {
      throw RequestException.invalidParameter(
          "set at most one of RecoveryWindowInDays and ForceDeleteWithoutRecovery");
    }
    return new Answer(
        api.delete(caller, id, window == null ? null : window.intValue(), force), null);
  }

  private static GenerateSpec passwordSpec(AwsInput in) {
    GenerateSpec spec = new GenerateSpec();
    Long length = in.integer("PasswordLength", 1, 4096);
    if (length != null) {
      spec.setPasswordLength(length.intValue());
    }
    spec.setExcludeCharacters(in.string("ExcludeCharacters", 0, 4096));
    spec.setExcludeNumbers(Boolean.TRUE.equals(in.bool("ExcludeNumbers")));
    spec.setExcludePunctuation(Boolean.TRUE.equals(in.bool("ExcludePunctuation")));
    spec.setExcludeUppercase(Boolean.TRUE.equals(in.bool("ExcludeUppercase")));
    spec.setExcludeLowercase(Boolean.TRUE.equals(in.bool("ExcludeLowercase")));
    spec.setIncludeSpace(Boolean.TRUE.equals(in.bool("IncludeSpace")));
    spec.setRequireEachIncludedType(!Boolean.FALSE.equals(in.bool("RequireEachIncludedType")));
    return spec;
  }
}
