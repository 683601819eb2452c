package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.MotoServer;
import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * AWS Secrets Manager's wire protocol (awsJson1.1, POST / with X-Amz-Target) against the real
 * control plane, called as the AWS SDKs call it, with Bearer ServiceAccount tokens: the shapes,
 * every SecretId form, ClientRequestToken idempotency under concurrency, listings limited by RBAC,
 * per-secret batch errors, and the operations Kubernetes objects own.
 */
@KubernetesIT
class AwsProtocolIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String REGION = "eu-west-1";
  private static final String ACCOUNT = "123456789012";
  private static OperatorFixture fixture;
  private static ApiClient api;
  private static final List<String> VALUES = new ArrayList<>();

  @BeforeAll
  static void start(TestCluster cluster) throws Exception {
    fixture =
        new OperatorFixture(
                cluster,
                Map.of("KEYWARDEN_AWS_REGION", REGION, "KEYWARDEN_AWS_ACCOUNT_ID", ACCOUNT))
            .start();
    api = new ApiClient("https://127.0.0.1:" + fixture.apiPort, fixture.apiCa());
    var reader =
        fixture
            .client
            .getKubernetesSerialization()
            .unmarshal(
                Files.newInputStream(
                    RepositoryRoot.find().resolve("examples/rbac-reader-clusterrole.yaml")));
    fixture.client.resource((HasMetadata) ((List<?>) reader).get(0)).serverSideApply();
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.closeCheckingLogNeverContains(VALUES);
    }
  }

  @Test
  void readsInAwsShapesByEveryFormOfSecretId(TestNamespace ns) throws Exception {
    String value = secret(ns, "db", "access: [{name: app}]");
    String token = token(ns, "app");
    String current = fixture.get(ns.name(), "db").getStatus().getCurrentVersionId();

    HttpResponse<String> described = awaitOk("DescribeSecret", token, body("SecretId", "db"));

    assertThat(described.headers().firstValue("Content-Type"))
        .contains("application/x-amz-json-1.1");
    JsonNode describe = JSON.readTree(described.body());
    String arn = describe.get("ARN").asText();
    assertThat(arn)
        .matches(
            "arn:aws:secretsmanager:"
                + REGION
                + ":"
                + ACCOUNT
                + ":secret:"
                + ns
                + "/db-[A-Za-z0-9]{6}");
    assertThat(describe.get("Name").asText()).isEqualTo("db");
    assertThat(describe.get("CreatedDate").isNumber()).as("epoch seconds").isTrue();
    assertThat(describe.get("VersionIdsToStages").get(current))
        .extracting(JsonNode::asText)
        .containsExactly("AWSCURRENT");

    for (String id : List.of("db", ns + "/db", arn)) {
      JsonNode got = ok(Aws.call("GetSecretValue", token, body("SecretId", id)));
      assertThat(got.get("SecretString").asText()).as(id).isEqualTo(value);
      assertThat(got.get("VersionId").asText()).isEqualTo(current);
      assertThat(got.get("VersionStages"))
          .extracting(JsonNode::asText)
          .containsExactly("AWSCURRENT");
      assertThat(got.get("CreatedDate").isNumber()).isTrue();
      assertThat(got.get("ARN").asText()).isEqualTo(arn);
    }
    ObjectNode byStage = body("SecretId", "db").put("VersionStage", "AWSCURRENT");
    assertThat(ok(Aws.call("GetSecretValue", token, byStage)).get("VersionId").asText())
        .isEqualTo(current);
    ObjectNode byId = body("SecretId", "db").put("VersionId", current);
    assertThat(ok(Aws.call("GetSecretValue", token, byId)).get("SecretString").asText())
        .isEqualTo(value);
    JsonNode versions = ok(Aws.call("ListSecretVersionIds", token, body("SecretId", arn)));
    assertThat(versions.get("ARN").asText()).isEqualTo(arn);
    assertThat(versions.get("Versions")).hasSize(1);
    assertThat(versions.get("Versions").get(0).get("VersionStages").get(0).asText())
        .isEqualTo("AWSCURRENT");
    assertThat(versions.get("Versions").get(0).get("CreatedDate").isNumber()).isTrue();

    assertError(
        Aws.call("GetSecretValue", token, body("SecretId", "db").put("VersionStage", "LATEST")),
        400,
        "InvalidParameterException",
        "VersionStage must be one of AWSCURRENT, AWSPREVIOUS, AWSPENDING");
    assertError(
        Aws.call("GetSecretValue", token, body("SecretId", "db").put("VersionId", "short")),
        400,
        "InvalidParameterException",
        "VersionId must be 32 to 64 characters long, not 5");
    assertError(
        Aws.call("GetSecretValue", token, "{}"),
        400,
        "InvalidParameterException",
        "SecretId is required");
    assertError(
        Aws.call("GetSecretValue", token, body("SecretId", 42)),
        400,
        "InvalidParameterException",
        "SecretId must be a JSON string, not NUMBER");
    String stale = arn.substring(0, arn.length() - 6) + "AAAAAA";
    if (stale.equals(arn)) {
      stale = arn.substring(0, arn.length() - 6) + "BBBBBB";
    }
    assertError(
        Aws.call("GetSecretValue", token, body("SecretId", stale)),
        400,
        "ResourceNotFoundException",
        "the ARN names an earlier secret of that name");
    assertError(
        Aws.call("GetSecretValue", token, body("SecretId", ns + "/other")),
        400,
        "AccessDeniedException",
        "may not get managedsecrets/value");
    assertAudited(ns, "db", "GetSecretValue");
  }

  @Test
  void putSecretValueIsIdempotentByClientRequestToken(TestNamespace ns) throws Exception {
    String original = secret(ns, "rotating", "access: [{name: app, actions: [get, update]}]");
    String token = token(ns, "app");
    awaitOk("DescribeSecret", token, body("SecretId", "rotating"));
    String first = fixture.get(ns.name(), "rotating").getStatus().getCurrentVersionId();

    String requestToken = UUID.randomUUID().toString();
    String value = value();
    JsonNode put = ok(Aws.call("PutSecretValue", token, put(requestToken, value)));
    int versions = versionCount(ns, "rotating");
    JsonNode again = ok(Aws.call("PutSecretValue", token, put(requestToken, value)));

    assertThat(put.get("VersionId").asText()).isEqualTo(requestToken);
    assertThat(put.get("VersionStages")).extracting(JsonNode::asText).containsExactly("AWSCURRENT");
    assertThat(again.get("VersionId").asText()).isEqualTo(requestToken);
    assertThat(versionCount(ns, "rotating")).as("a repeat makes no version").isEqualTo(versions);
    assertError(
        Aws.call("PutSecretValue", token, put(requestToken, value())),
        400,
        "ResourceExistsException",
        "version " + requestToken + " exists with another value");
    assertThat(secretString(token, body("SecretId", "rotating"))).isEqualTo(value);
    JsonNode previous =
        ok(
            Aws.call(
                "GetSecretValue",
                token,
                body("SecretId", "rotating").put("VersionStage", "AWSPREVIOUS")));
    assertThat(previous.get("VersionId").asText()).isEqualTo(first);
    assertThat(previous.get("SecretString").asText()).isEqualTo(original);

    // Eight SDK retries of one request at the same moment: one version.
    String concurrent = UUID.randomUUID().toString();
    String shared = value();
    List<HttpResponse<String>> same = race(token, 8, i -> put(concurrent, shared));
    assertThat(same).allSatisfy(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(200));
    assertThat(same)
        .extracting(r -> JSON.readTree(r.body()).get("VersionId").asText())
        .containsOnly(concurrent);
    assertThat(versionIds(ns, "rotating")).filteredOn(concurrent::equals).hasSize(1);
    assertThat(secretString(token, body("SecretId", "rotating"))).isEqualTo(shared);

    // One token, eight different values at once: exactly one is stored, the others are refused.
    String contested = UUID.randomUUID().toString();
    List<String> candidates = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      candidates.add(value());
    }
    List<HttpResponse<String>> racing = race(token, 8, i -> put(contested, candidates.get(i)));
    List<Integer> winners = new ArrayList<>();
    for (int i = 0; i < racing.size(); i++) {
      if (racing.get(i).statusCode() == 200) {
        winners.add(i);
      } else {
        assertError(racing.get(i), 400, "ResourceExistsException", "exists with another value");
      }
    }
    assertThat(winners).hasSize(1);
    assertThat(secretString(token, body("SecretId", "rotating").put("VersionId", contested)))
        .isEqualTo(candidates.get(winners.get(0)));

    // Without a token a version gets a fresh id; tokens of any visible ASCII work as ids.
    String fresh = value();
    String plainId =
        ok(Aws.call(
                "PutSecretValue", token, body("SecretId", "rotating").put("SecretString", fresh)))
            .get("VersionId")
            .asText();
    assertThat(plainId).isNotIn(requestToken, concurrent, contested);
    String oddToken = "Odd_Token+With/Case:" + UUID.randomUUID().toString().substring(0, 20);
    String odd = value();
    ok(Aws.call("PutSecretValue", token, put(oddToken, odd)));
    assertThat(secretString(token, body("SecretId", "rotating").put("VersionId", oddToken)))
        .isEqualTo(odd);
    ok(Aws.call("PutSecretValue", token, put(oddToken, odd)));

    assertError(
        Aws.call("PutSecretValue", token, put("short", value())),
        400,
        "InvalidParameterException",
        "ClientRequestToken must be 32 to 64 characters long");
    ObjectNode pending = put(UUID.randomUUID().toString(), value());
    pending.putArray("VersionStages").add("AWSPENDING");
    assertError(
        Aws.call("PutSecretValue", token, pending),
        400,
        "InvalidParameterException",
        "VersionStages must be absent or [\"AWSCURRENT\"]");
    ObjectNode binary = body("SecretId", "rotating").put("SecretBinary", "AP8=");
    ok(Aws.call("PutSecretValue", token, binary));
    JsonNode bytes = ok(Aws.call("GetSecretValue", token, body("SecretId", "rotating")));
    assertThat(bytes.get("SecretBinary").asText()).isEqualTo("AP8=");
    // "dGV4dA==" is the text "text": put as SecretBinary, it comes back as SecretBinary.
    ok(
        Aws.call(
            "PutSecretValue", token, body("SecretId", "rotating").put("SecretBinary", "dGV4dA==")));
    JsonNode text = ok(Aws.call("GetSecretValue", token, body("SecretId", "rotating")));
    assertThat(text.get("SecretBinary").asText()).isEqualTo("dGV4dA==");
    assertThat(text.has("SecretString")).isFalse();

    // The REST path is the same implementation: its body takes ClientRequestToken too.
    String restToken = UUID.randomUUID().toString();
    String restValue = value();
    String path = "/v1/namespaces/" + ns + "/managedsecrets/rotating/value";
    HttpResponse<String> rest = api.put(path, token, put(restToken, restValue).toString());
    assertThat(JSON.readTree(rest.body()).get("VersionId").asText()).isEqualTo(restToken);
    assertThat(JSON.readTree(rest.body()).get("VersionStages").get(0).asText())
        .isEqualTo("CURRENT");
    assertThat(api.put(path, token, put(restToken, value()).toString()).body())
        .contains("ResourceExistsException");
  }

  @Test
  void listSecretsShowsOnlyWhatTheCallerMayDescribe(TestNamespace ns) throws Exception {
    String other = ns.name() + "-b";
    fixture
        .client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(other).endMetadata().build())
        .create();
    try {
      secret(ns, "alpha", "access: [{name: app}]");
      secret(ns, "beta", "access: []");
      secret(ns, "gamma", "access: [{name: app}]");
      fixture
          .client
          .serviceAccounts()
          .inNamespace(other)
          .withName("default")
          .waitUntilCondition(sa -> sa != null, 60, java.util.concurrent.TimeUnit.SECONDS);
      secret(other, "delta", "access: [{name: app, namespace: " + ns + "}]");
      secret(other, "epsilon", "access: []");
      String app = token(ns, "app");
      String reporting = token(ns, "reporting");
      bindReader(ns, "reporting");
      awaitOk("DescribeSecret", app, body("SecretId", other + "/delta"));

      Set<String> seen = names(ok(Aws.call("ListSecrets", app, "{}")), ns.name(), other);
      assertThat(seen).containsExactlyInAnyOrder(ns + "/alpha", ns + "/gamma", other + "/delta");

      // boto3's paginator: MaxResults and NextToken until there is none.
      List<String> paged = new ArrayList<>();
      String next = null;
      int pages = 0;
      do {
        ObjectNode request = JSON.createObjectNode().put("MaxResults", 1).put("SortBy", "name");
        request.putArray("Filters").addObject().put("Key", "name").putArray("Values").add(ns + "/");
        if (next != null) {
          request.put("NextToken", next);
        }
        JsonNode page = ok(Aws.call("ListSecrets", app, request));
        assertThat(page.get("SecretList").size()).isLessThanOrEqualTo(1);
        page.get("SecretList")
            .forEach(
                s -> {
                  paged.add(s.get("Name").asText());
                  assertThat(s.get("SecretVersionsToStages").toString()).contains("AWSCURRENT");
                  assertThat(s.get("CreatedDate").isNumber()).isTrue();
                });
        next = page.hasNonNull("NextToken") ? page.get("NextToken").asText() : null;
        pages++;
      } while (next != null && pages < 10);
      assertThat(paged).containsExactly("alpha", "gamma");

      ObjectNode descending =
          JSON.createObjectNode().put("SortBy", "name").put("SortOrder", "desc");
      descending
          .putArray("Filters")
          .addObject()
          .put("Key", "name")
          .putArray("Values")
          .add(ns + "/");
      JsonNode desc = ok(Aws.call("ListSecrets", reporting, descending));
      assertThat(desc.get("SecretList"))
          .extracting(s -> s.get("Name").asText())
          .as("a namespace-wide grant shows every secret of that namespace")
          .containsExactly("gamma", "beta", "alpha");
      ObjectNode negated = JSON.createObjectNode();
      negated
          .putArray("Filters")
          .addObject()
          .put("Key", "name")
          .putArray("Values")
          .add("!" + ns + "/");
      assertThat(names(ok(Aws.call("ListSecrets", app, negated)), ns.name(), other))
          .containsExactly(other + "/delta");

      assertError(
          Aws.call("ListSecrets", app, JSON.createObjectNode().put("NextToken", "bm90IG91cnM")),
          400,
          "InvalidNextTokenException",
          "NextToken was not handed out for this query");
      ObjectNode badKey = JSON.createObjectNode();
      badKey.putArray("Filters").addObject().put("Key", "colour").putArray("Values").add("x");
      assertError(
          Aws.call("ListSecrets", app, badKey),
          400,
          "InvalidParameterException",
          "Filters Key must be one of");
      assertError(
          Aws.call("ListSecrets", app, JSON.createObjectNode().put("MaxResults", 101)),
          400,
          "InvalidParameterException",
          "MaxResults must be between 1 and 100, not 101");
    } finally {
      fixture.client.namespaces().withName(other).delete();
    }
  }

  @Test
  void batchGetAnswersValuesAndAnErrorPerSecret(TestNamespace ns) throws Exception {
    String x = secret(ns, "x", "access: []");
    String y = secret(ns, "y", "access: []");
    String reporting = token(ns, "reporting");
    bindReader(ns, "reporting");
    awaitOk("DescribeSecret", reporting, body("SecretId", "x"));

    ObjectNode request = JSON.createObjectNode();
    request
        .putArray("SecretIdList")
        .add("x")
        .add(ns + "/y")
        .add("missing")
        .add("kube-system/z")
        .add("a/b/c");
    JsonNode batch = ok(Aws.call("BatchGetSecretValue", reporting, request));

    assertThat(batch.get("SecretValues"))
        .extracting(v -> v.get("Name").asText() + "=" + v.get("SecretString").asText())
        .containsExactly("x=" + x, "y=" + y);
    assertThat(batch.get("SecretValues").get(0).get("VersionStages").get(0).asText())
        .isEqualTo("AWSCURRENT");
    assertThat(batch.get("Errors"))
        .extracting(e -> e.get("SecretId").asText() + " " + e.get("ErrorCode").asText())
        .containsExactly(
            "missing ResourceNotFoundException",
            "kube-system/z AccessDeniedException",
            "a/b/c InvalidParameterException");

    Set<String> values = new HashSet<>();
    String next = null;
    int pages = 0;
    do {
      ObjectNode filtered = JSON.createObjectNode().put("MaxResults", 1);
      filtered.putArray("Filters").addObject().put("Key", "name").putArray("Values").add(ns + "/");
      if (next != null) {
        filtered.put("NextToken", next);
      }
      JsonNode page = ok(Aws.call("BatchGetSecretValue", reporting, filtered));
      page.get("SecretValues").forEach(v -> values.add(v.get("SecretString").asText()));
      next = page.hasNonNull("NextToken") ? page.get("NextToken").asText() : null;
      pages++;
    } while (next != null && pages < 10);
    assertThat(values).containsExactlyInAnyOrder(x, y);

    ObjectNode both = JSON.createObjectNode();
    both.putArray("SecretIdList").add("x");
    both.putArray("Filters").addObject().put("Key", "name").putArray("Values").add("x");
    assertError(
        Aws.call("BatchGetSecretValue", reporting, both),
        400,
        "InvalidParameterException",
        "set exactly one of SecretIdList or Filters");
  }

  @Test
  void awsJsonReadsCountByNamespaceAndRecordTheDayAsRestReadsDo(TestNamespace ns) throws Exception {
    secret(ns, "counted", "access: [{name: app}]");
    secret(ns, "guarded", "access: [{name: someone-else}]");
    String token = token(ns, "app");
    DescribeGrant.create(fixture.client, ns.name(), "app", "counted");
    awaitOk("GetSecretValue", token, body("SecretId", "counted"));
    awaitOk("DescribeSecret", token, body("SecretId", "counted"));
    double ok = reads(ns, "ok");
    double denied = reads(ns, "denied");

    for (int i = 0; i < 3; i++) {
      ok(Aws.call("GetSecretValue", token, body("SecretId", "counted")));
    }
    for (int i = 0; i < 2; i++) {
      assertError(
          Aws.call("GetSecretValue", token, body("SecretId", "guarded")),
          400,
          "AccessDeniedException",
          "may not get managedsecrets/value");
    }

    // keywarden_api_reads_total{namespace, outcome}: the secret's namespace, as for REST reads.
    assertThat(reads(ns, "ok") - ok).isEqualTo(3);
    assertThat(reads(ns, "denied") - denied).isEqualTo(2);
    String today = java.time.LocalDate.now(java.time.ZoneOffset.UTC) + "T00:00:00Z";
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> fixture.get(ns.name(), "counted").getStatus().getLastAccessedDate(),
            today::equals);
    JsonNode described = ok(Aws.call("DescribeSecret", token, body("SecretId", "counted")));
    assertThat(described.get("LastAccessedDate").asLong())
        .isEqualTo(java.time.Instant.parse(today).getEpochSecond());
    assertThat(fixture.get(ns.name(), "guarded").getStatus().getLastAccessedDate()).isNull();
  }

  /** keywarden_api_reads_total of the namespace and outcome, from the operator's /q/metrics. */
  private static double reads(TestNamespace ns, String outcome) {
    var line =
        java.util.regex.Pattern.compile(
            "(?m)^keywarden_api_reads_total\\{([^}]*)\\} ([0-9.eE+-]+)$");
    var matcher = line.matcher(fixture.operator.http("/q/metrics").body());
    double total = 0;
    while (matcher.find()) {
      if (matcher.group(1).contains("namespace=\"" + ns.name() + "\"")
          && matcher.group(1).contains("outcome=\"" + outcome + "\"")) {
        total += Double.parseDouble(matcher.group(2));
      }
    }
    return total;
  }

  @Test
  void rotateSecretAndRandomPasswords(TestNamespace ns) throws Exception {
    fixture.apply(
        ns.name(),
        """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: generated}
        spec: {generate: {passwordLength: 24}, access: [{name: app, actions: [get, rotate]}]}
        """);
    String before = fixture.awaitReady(ns.name(), "generated").getStatus().getCurrentVersionId();
    String token = token(ns, "app");
    awaitOk("DescribeSecret", token, body("SecretId", "generated"));

    ObjectNode rules = body("SecretId", "generated");
    rules.putObject("RotationRules").put("AutomaticallyAfterDays", 30);
    assertError(
        Aws.call("RotateSecret", token, rules),
        400,
        "InvalidParameterException",
        "RotationRules is not supported: rotation is configured by a RotationSchedule");
    String requestToken = UUID.randomUUID().toString();
    ObjectNode rotate = body("SecretId", "generated").put("ClientRequestToken", requestToken);
    JsonNode rotated = ok(Aws.call("RotateSecret", token, rotate));
    assertThat(rotated.get("ARN").asText()).contains(":secret:" + ns + "/generated-");
    assertThat(rotated.get("RotationRequested").isNumber()).isTrue();
    // As on AWS, the ClientRequestToken becomes the new version's VersionId.
    assertThat(rotated.get("VersionId").asText()).isEqualTo(requestToken);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> fixture.get(ns.name(), "generated").getStatus().getCurrentVersionId(),
            current -> current != null && !current.equals(before));
    assertThat(fixture.get(ns.name(), "generated").getStatus().getCurrentVersionId())
        .isEqualTo(requestToken);
    // The same token again is idempotent: the same VersionId, no second rotation.
    JsonNode again = ok(Aws.call("RotateSecret", token, rotate));
    assertThat(again.get("VersionId").asText()).isEqualTo(requestToken);
    assertThat(fixture.get(ns.name(), "generated").getMetadata().getAnnotations())
        .doesNotContainKey("keywarden.io/rotate-now");
    Thread.sleep(2000);
    assertThat(fixture.get(ns.name(), "generated").getStatus().getCurrentVersionId())
        .isEqualTo(requestToken);
    assertThat(fixture.get(ns.name(), "generated").getStatus().getVersions()).hasSize(2);
    JsonNode previous =
        ok(
            Aws.call(
                "GetSecretValue",
                token,
                body("SecretId", "generated").put("VersionStage", "AWSPREVIOUS")));
    assertThat(previous.get("VersionId").asText()).isEqualTo(before);

    JsonNode password =
        ok(
            Aws.call(
                "GetRandomPassword",
                token,
                JSON.createObjectNode().put("PasswordLength", 40).put("ExcludePunctuation", true)));
    assertThat(password.get("RandomPassword").asText()).hasSize(40).matches("[A-Za-z0-9]+");
    assertError(
        Aws.call("GetRandomPassword", token, JSON.createObjectNode().put("PasswordLength", 0)),
        400,
        "InvalidParameterException",
        "PasswordLength must be between 1 and 4096, not 0");
    assertError(
        Aws.call("GetRandomPassword", token, JSON.createObjectNode().put("IncludeSpace", "yes")),
        400,
        "InvalidParameterException",
        "IncludeSpace must be true or false");
  }

  @Test
  void operationsOfManagedSecretObjectsNameTheKubernetesWay(TestNamespace ns) throws Exception {
    secret(ns, "owned", "access: [{name: app}]");
    String token = token(ns, "app");

    for (String operation : AwsJsonProtocol.KUBERNETES_WAY.keySet()) {
      HttpResponse<String> refused = Aws.call(operation, token, body("SecretId", "owned"));
      assertError(
          refused, 400, "InvalidRequestException", operation + " is not served by Keywarden");
      assertThat(JSON.readTree(refused.body()).get("Message").asText())
          .containsAnyOf("kubectl", "apply the ManagedSecret");
    }
    assertError(
        Aws.call("CreateSecret", token, body("Name", "new")),
        400,
        "InvalidRequestException",
        "kubectl apply a ManagedSecret");
    assertError(
        Aws.call("Frobnicate", token, "{}"),
        400,
        "UnknownOperationException",
        "secretsmanager.Frobnicate is no operation");
    assertError(
        Aws.call(null, token, "{}"),
        400,
        "UnknownOperationException",
        "POST / needs the header X-Amz-Target");
    assertError(
        Aws.call("GetSecretValue", token, "{oops"),
        400,
        "InvalidParameterException",
        "the body is not valid JSON");
    assertError(
        Aws.call("GetSecretValue", token, "[1]"),
        400,
        "InvalidParameterException",
        "the body must be a JSON object");
    HttpResponse<String> anonymous = Aws.call("GetSecretValue", null, body("SecretId", "owned"));
    assertError(anonymous, 400, "UnrecognizedClientException", "");
  }

  /**
   * boto3 from PyPI (the venv .ci/run makes for moto, which brings boto3) calls the protocol
   * unchanged but for the endpoint and a Bearer token, and raises its modelled exceptions.
   */
  @Test
  void boto3ReadsDescribesListsAndPutsUnchanged(TestNamespace ns) throws Exception {
    String value = secret(ns, "app-db", "access: [{name: app, actions: [get, update]}]");
    secret(ns, "locked", "access: []");
    String token = token(ns, "app");
    awaitOk("DescribeSecret", token, body("SecretId", "app-db"));
    Path ca = Files.createTempFile("keywarden-api-ca", ".pem");
    Files.writeString(ca, fixture.apiCa());
    Path script = Files.createTempFile("boto3_client", ".py");
    try (var in = AwsProtocolIT.class.getResourceAsStream("/aws/boto3_client.py")) {
      Files.write(script, in.readAllBytes());
    }
    Path python = MotoServer.executable().getParent().resolve("python3");
    ProcessBuilder builder =
        new ProcessBuilder(python.toString(), script.toString()).redirectErrorStream(true);
    builder.environment().put("KW_ENDPOINT", "https://127.0.0.1:" + fixture.apiPort);
    builder.environment().put("KW_CA", ca.toString());
    builder.environment().put("KW_TOKEN", token);
    builder.environment().put("KW_SECRET", ns + "/app-db");
    builder.environment().put("KW_DENIED", ns + "/locked");
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as(output).isZero();
    JsonNode out = JSON.readTree(output.lines().reduce((a, b) -> b).orElseThrow());
    String first =
        fixture.get(ns.name(), "app-db").getStatus().getVersions().stream()
            .filter(v -> v.getStages().contains("PREVIOUS"))
            .findFirst()
            .orElseThrow()
            .getVersionId();

    assertThat(out.at("/get/SecretString").asText()).isEqualTo(value);
    assertThat(out.at("/get/VersionStages/0").asText()).isEqualTo("AWSCURRENT");
    assertThat(out.at("/get/CreatedDateType").asText())
        .as("parsed as a date")
        .isEqualTo("datetime");
    assertThat(out.at("/describe/VersionIdsToStages").toString()).contains("AWSCURRENT");
    String requestToken = out.at("/put/token").asText();
    assertThat(out.at("/put/first").asText()).isEqualTo(requestToken);
    assertThat(out.at("/put/again").asText()).isEqualTo(requestToken);
    assertThat(out.get("conflict").asText()).isEqualTo("ResourceExistsException");
    assertThat(out.get("previous").asText()).isEqualTo(first);
    assertThat(out.get("versions")).extracting(JsonNode::asText).contains(requestToken, first);
    assertThat(out.get("listed")).extracting(JsonNode::asText).containsExactly("app-db");
    assertThat(out.at("/batch/values")).extracting(JsonNode::asText).containsExactly("app-db");
    assertThat(out.at("/batch/errors"))
        .extracting(JsonNode::asText)
        .containsExactly("AccessDeniedException");
    assertThat(out.get("denied").asText()).isEqualTo("AccessDeniedException");
    assertThat(out.get("missing").asText()).isEqualTo("ResourceNotFoundException");
    assertThat(out.get("created").asText()).isEqualTo("InvalidRequestException");
    VALUES.add(out.at("/put/value").asText());
  }

  /**
   * The AWS SDK for Java v2 (which fails on ISO-8601 dates) parses every answer and raises the
   * modelled exceptions; Bearer in place of SigV4 until Keywarden issues credentials.
   */
  @Test
  void javaSdkV2ParsesEveryAnswer(TestNamespace ns) throws Exception {
    String value = secret(ns, "java-db", "access: [{name: app, actions: [get, update]}]");
    String token = token(ns, "app");
    awaitOk("DescribeSecret", token, body("SecretId", "java-db"));
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry(
        "keywarden-api-ca",
        java.security.cert.CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new java.io.ByteArrayInputStream(
                    fixture.apiCa().getBytes(StandardCharsets.US_ASCII))));
    javax.net.ssl.TrustManagerFactory trustManagers =
        javax.net.ssl.TrustManagerFactory.getInstance(
            javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    try (var sdk =
        software.amazon.awssdk.services.secretsmanager.SecretsManagerClient.builder()
            .endpointOverride(java.net.URI.create("https://127.0.0.1:" + fixture.apiPort))
            .region(software.amazon.awssdk.regions.Region.of(REGION))
            .credentialsProvider(
                software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider.create())
            .overrideConfiguration(c -> c.putHeader("Authorization", "Bearer " + token))
            .httpClient(
                software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.builder()
                    .tlsTrustManagersProvider(trustManagers::getTrustManagers)
                    .build())
            .build()) {
      var got = sdk.getSecretValue(r -> r.secretId("java-db"));
      var described = sdk.describeSecret(r -> r.secretId(got.arn()));
      String requestToken = UUID.randomUUID().toString();
      String next = value();
      var put =
          sdk.putSecretValue(
              r -> r.secretId("java-db").secretString(next).clientRequestToken(requestToken));
      var repeat =
          sdk.putSecretValue(
              r -> r.secretId("java-db").secretString(next).clientRequestToken(requestToken));
      var versions = sdk.listSecretVersionIds(r -> r.secretId(ns + "/java-db"));
      var listed =
          sdk
              .listSecretsPaginator(
                  r ->
                      r.maxResults(1)
                          .filters(
                              f ->
                                  f.key(
                                          software.amazon.awssdk.services.secretsmanager.model
                                              .FilterNameStringType.NAME)
                                      .values(ns + "/")))
              .stream()
              .flatMap(page -> page.secretList().stream())
              .map(e -> e.name())
              .toList();

      assertThat(got.secretString()).isEqualTo(value);
      assertThat(got.versionStages()).containsExactly("AWSCURRENT");
      assertThat(got.createdDate()).isNotNull();
      assertThat(described.createdDate()).isNotNull();
      assertThat(described.versionIdsToStages().get(got.versionId())).containsExactly("AWSCURRENT");
      assertThat(put.versionId()).isEqualTo(requestToken);
      assertThat(repeat.versionId()).isEqualTo(requestToken);
      assertThat(versions.versions()).extracting(v -> v.versionId()).contains(requestToken);
      assertThat(listed).containsExactly("java-db");
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () ->
                  sdk.putSecretValue(
                      r ->
                          r.secretId("java-db")
                              .secretString(next + "-other")
                              .clientRequestToken(requestToken)))
          .isInstanceOf(
              software.amazon.awssdk.services.secretsmanager.model.ResourceExistsException.class);
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> sdk.createSecret(r -> r.name("new").secretString("x")))
          .isInstanceOf(
              software.amazon.awssdk.services.secretsmanager.model.InvalidRequestException.class)
          .hasMessageContaining("kubectl apply a ManagedSecret");
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> sdk.getSecretValue(r -> r.secretId("java-db").versionStage("AWSPENDING")))
          .isInstanceOf(
              software.amazon.awssdk.services.secretsmanager.model.ResourceNotFoundException.class);
    }
  }

  // ---- helpers

  private interface Body {
    ObjectNode of(int i) throws Exception;
  }

  /** The test's own shorthand for {@link ApiClient#aws} with a JSON body. */
  private static final class Aws {
    static HttpResponse<String> call(String operation, String token, JsonNode body)
        throws Exception {
      return api.aws(operation, token, body.toString());
    }

    static HttpResponse<String> call(String operation, String token, String body) throws Exception {
      return api.aws(operation, token, body);
    }
  }

  /** {@code n} calls of PutSecretValue released at the same moment. */
  private static List<HttpResponse<String>> race(String token, int n, Body body) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ObjectNode request = body.of(i);
        calls.add(
            pool.submit(
                () -> {
                  go.await();
                  return Aws.call("PutSecretValue", token, request);
                }));
      }
      go.countDown();
      List<HttpResponse<String>> out = new ArrayList<>();
      for (Future<HttpResponse<String>> call : calls) {
        out.add(call.get());
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  private static ObjectNode put(String requestToken, String value) {
    return body("SecretId", "rotating")
        .put("ClientRequestToken", requestToken)
        .put("SecretString", value);
  }

  private static ObjectNode body(String member, Object value) {
    ObjectNode body = JSON.createObjectNode();
    if (value instanceof Integer i) {
      body.put(member, i);
    } else {
      body.put(member, (String) value);
    }
    return body;
  }

  private static String value() {
    String value = "value-" + UUID.randomUUID();
    VALUES.add(value);
    return value;
  }

  private static String secret(TestNamespace ns, String name, String spec) {
    return secret(ns.name(), name, spec);
  }

  private static String secret(String ns, String name, String spec) {
    String value = value();
    fixture.createImported(ns, name, value, spec);
    return value;
  }

  private static String token(TestNamespace ns, String serviceAccount) {
    return fixture.serviceAccountToken(ns.name(), serviceAccount, "keywarden.io");
  }

  private static void bindReader(TestNamespace ns, String serviceAccount) {
    fixture
        .client
        .rbac()
        .roleBindings()
        .inNamespace(ns.name())
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName(serviceAccount + "-reads-secrets")
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole")
                .withName("keywarden-secret-reader")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(serviceAccount)
                .withNamespace(ns.name())
                .endSubject()
                .build())
        .create();
  }

  private static Set<String> names(JsonNode list, String... namespaces) {
    Set<String> names = new HashSet<>();
    list.get("SecretList")
        .forEach(
            s -> {
              String namespace = s.get("Namespace").asText();
              if (List.of(namespaces).contains(namespace)) {
                names.add(namespace + "/" + s.get("Name").asText());
              }
            });
    return names;
  }

  private static int versionCount(TestNamespace ns, String name) {
    return versionIds(ns, name).size();
  }

  private static List<String> versionIds(TestNamespace ns, String name) {
    ManagedSecret secret = fixture.get(ns.name(), name);
    return secret.getStatus().getVersions().stream().map(SecretVersion::getVersionId).toList();
  }

  private static String secretString(String token, ObjectNode request) throws Exception {
    return ok(Aws.call("GetSecretValue", token, request)).get("SecretString").asText();
  }

  private static JsonNode ok(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .contains("application/x-amz-json-1.1");
    return JSON.readTree(response.body());
  }

  /**
   * RBAC objects reach the authorizer's cache a moment after they are written; on a loaded machine
   * a first connection may also time out.
   */
  private static HttpResponse<String> awaitOk(String operation, String token, ObjectNode body) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .ignoreException(java.net.http.HttpConnectTimeoutException.class)
        .until(() -> Aws.call(operation, token, body), r -> r.statusCode() == 200);
  }

  private static void assertError(
      HttpResponse<String> response, int status, String type, String message) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type"))
        .contains("application/x-amz-json-1.1");
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("__type").asText()).isEqualTo(type);
    assertThat(body.get("Message").asText()).contains(message);
    assertThat(response.body()).doesNotContain("\tat ");
  }

  private static void assertAudited(TestNamespace ns, String secret, String action) {
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(fixture.operator.logText().lines())
                    .filteredOn(
                        l -> l.startsWith("{") && l.contains("\"audit\":\"keywarden.io/v1\""))
                    .anySatisfy(
                        l -> {
                          JsonNode j = JSON.readTree(l);
                          assertThat(j.path("namespace").asText()).isEqualTo(ns.name());
                          assertThat(j.path("secret").asText()).isEqualTo(secret);
                          assertThat(j.path("action").asText()).isEqualTo(action);
                          assertThat(j.path("versionId").asText()).isNotBlank();
                        }));
  }
}
