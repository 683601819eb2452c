package io.keywarden.operator.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.operator.api.ApiClient;
import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.it.OperatorFixture;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.MotoServer;
import io.keywarden.testcluster.RepositoryRoot;
import io.keywarden.testcluster.TcpProxy;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.InvalidCiphertextException;

/**
 * The aws-kms provider against a real moto server, next to the local provider, with the operator as
 * a process: values through the ciphertext and the API, encryption-key rotation, a restart, refused
 * keys, migration between providers, and an outage that heals by itself.
 *
 * <p>moto stands behind a {@link TcpProxy}: moto keeps its keys in memory only, so an outage is
 * made by cutting the proxy, not by stopping moto. The operator gets no static AWS keys: its
 * credentials come from a web identity token through moto's STS, the IRSA path of the SDK's default
 * chain.
 */
@KubernetesIT
class AwsKmsIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String REGION = "us-east-1";
  private static final java.util.Set<String> VALUES =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  @TempDir static Path dir;
  private static MotoServer moto;
  private static TcpProxy proxy;
  private static KmsClient aws;
  private static OperatorFixture fixture;
  private static ApiClient api;
  private static String mainKeyArn;
  private static String switchKeyId;
  private static String rotatingKeyArn;

  @BeforeAll
  static void start(TestCluster cluster) throws Exception {
    Path root = RepositoryRoot.find();
    moto = MotoServer.start(root.resolve("operator/target/it-moto.log"));
    proxy = new TcpProxy(moto.port());
    aws =
        KmsClient.builder()
            .region(Region.of(REGION))
            .endpointOverride(moto.endpoint())
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing")))
            .httpClientBuilder(UrlConnectionHttpClient.builder())
            .build();
    mainKeyArn = createKey("alias/keywarden-it");
    switchKeyId =
        aws.describeKey(b -> b.keyId(createKey("alias/keywarden-switch"))).keyMetadata().keyId();
    rotatingKeyArn = createKey("alias/keywarden-rotating");

    // Aliases in every form AWS accepts: alias name, key ARN, bare key id; and one that does not
    // exist.
    Path config = dir.resolve("kms.properties");
    Files.writeString(
        config,
        String.join(
            "\n",
            "keywarden.kms.keys.aws.provider=aws-kms",
            "keywarden.kms.keys.aws.key-id=alias/keywarden-it",
            "keywarden.kms.keys.aws-arn.provider=aws-kms",
            "keywarden.kms.keys.aws-arn.key-id=" + mainKeyArn,
            "keywarden.kms.keys.aws-switch.provider=aws-kms",
            "keywarden.kms.keys.aws-switch.key-id=" + switchKeyId,
            "keywarden.kms.keys.aws-rotating.provider=aws-kms",
            "keywarden.kms.keys.aws-rotating.key-id=alias/keywarden-rotating",
            "keywarden.kms.keys.aws-missing.provider=aws-kms",
            "keywarden.kms.keys.aws-missing.key-id=alias/keywarden-missing",
            "keywarden.kms.aws.region=" + REGION,
            "keywarden.kms.aws.endpoint-override=http://127.0.0.1:" + proxy.port(),
            "keywarden.kms.health-interval=2s",
            ""));
    Path token = dir.resolve("token");
    Files.writeString(
        token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a2V5d2FyZGVuIn0.c2ln");
    Map<String, String> env = new HashMap<>();
    env.put("QUARKUS_CONFIG_LOCATIONS", config.toString());
    env.put("AWS_REGION", REGION);
    env.put("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/keywarden-operator");
    env.put("AWS_WEB_IDENTITY_TOKEN_FILE", token.toString());
    env.put("AWS_ENDPOINT_URL_STS", moto.endpoint().toString());
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    env.put("AWS_SHARED_CREDENTIALS_FILE", dir.resolve("no-credentials").toString());
    env.put("AWS_CONFIG_FILE", dir.resolve("no-config").toString());
    fixture = new OperatorFixture(cluster, env).start();
    api = new ApiClient("https://127.0.0.1:" + fixture.apiPort, fixture.apiCa());
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.closeCheckingLogNeverContains(VALUES);
    }
    if (proxy != null) {
      proxy.close();
    }
    if (aws != null) {
      aws.close();
    }
    if (moto != null) {
      moto.close();
    }
  }

  @Test
  void valueOnAnAwsKeyReadsBackThroughItsCiphertextAndTheApi(TestNamespace ns) throws Exception {
    ManagedSecret secret = create(ns, "orders-db", "aws");
    SecretVersion version = secret.getStatus().getVersions().get(0);
    assertThat(version.getKmsKeyId()).isEqualTo("aws");

    Envelope envelope = envelope(secret, version.getVersionId());
    assertThat(envelope.kmsKeyId()).isEqualTo("aws");
    EncryptionContext context = CiphertextStore.context(secret, version.getVersionId());
    String byHand = new String(unwrapByHand(envelope, context), StandardCharsets.UTF_8);
    assertThat(value(ns, "orders-db", version.getVersionId())).isEqualTo(byHand);

    // The data key is bound to the secret and version: AWS refuses it under another version's
    // context.
    EncryptionContext moved =
        new EncryptionContext(
            context.namespace(), context.name(), context.uid(), "another-version");
    assertThatThrownBy(
            () ->
                aws.decrypt(
                    b ->
                        b.ciphertextBlob(SdkBytes.fromByteArray(envelope.wrappedDek()))
                            .encryptionContext(moved.asMap())))
        .isInstanceOf(InvalidCiphertextException.class);
  }

  @Test
  void rotateEncryptionKeyRotatesTheAwsKeyMaterialAndValuesSurviveARestart(TestNamespace ns)
      throws Exception {
    ManagedSecret secret = create(ns, "rekeyed", "aws-rotating");
    String second = putValue(ns, "rekeyed", "second value");
    secret = fixture.get(ns.name(), "rekeyed");
    Map<String, String> values = values(ns, secret);
    Map<String, Envelope> before = envelopes(secret);
    int rotationsBefore = aws.listKeyRotations(b -> b.keyId(rotatingKeyArn)).rotations().size();
    assertThat(secret.getStatus().getVersions())
        .extracting(SecretVersion::getKeyVersion)
        .containsOnly(1 + rotationsBefore);

    fixture
        .client
        .resource(
            fixture
                .client
                .getKubernetesSerialization()
                .unmarshal(
                    """
        apiVersion: keywarden.io/v1alpha1
        kind: RotationSchedule
        metadata: {name: rekey, namespace: %s}
        spec:
          secretRef: {name: rekeyed}
          schedule: rate(1 day)
          rotateImmediately: true
          strategy: {type: rotateEncryptionKey}
        """
                        .formatted(ns.name()),
                    io.keywarden.api.v1alpha1.RotationSchedule.class))
        .create();

    ManagedSecret after =
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () -> fixture.get(ns.name(), "rekeyed"),
                s ->
                    s.getStatus().getVersions().stream()
                        .allMatch(v -> v.getKeyVersion() == 2 + rotationsBefore));
    assertThat(aws.listKeyRotations(b -> b.keyId(rotatingKeyArn)).rotations())
        .hasSize(rotationsBefore + 1)
        .allSatisfy(r -> assertThat(r.rotationTypeAsString()).isEqualTo("ON_DEMAND"));
    assertThat(after.getStatus().getCurrentVersionId()).isEqualTo(second);
    Map<String, Envelope> rewrapped = envelopes(after);
    for (var entry : before.entrySet()) {
      Envelope now = rewrapped.get(entry.getKey());
      assertThat(now.wrappedDek()).isNotEqualTo(entry.getValue().wrappedDek());
      assertThat(now.nonce()).isEqualTo(entry.getValue().nonce());
      assertThat(now.ciphertext()).isEqualTo(entry.getValue().ciphertext());
    }
    assertThat(values(ns, after)).isEqualTo(values);

    fixture.operator.stop();
    fixture.operator.start();
    assertThat(values(ns, fixture.get(ns.name(), "rekeyed"))).isEqualTo(values);
  }

  @Test
  void wrongKeyIdIsReportedAsKmsKeyNotFound(TestNamespace ns) {
    fixture.apply(ns.name(), manifest("misnamed", "aws-missing"));

    Condition ready =
        fixture.awaitCondition(ns.name(), "misnamed", "Ready", "False", "KmsKeyNotFound");
    assertThat(ready.getMessage())
        .contains("alias/keywarden-missing")
        .contains("keywarden.kms.keys.aws-missing.key-id")
        .contains("does not exist");
    // A key AWS refuses degrades its secrets, not the replica: the provider is reachable.
    assertThat(fixture.operator.http("/q/health/ready").statusCode()).isEqualTo(200);
    HttpResponse<String> group = fixture.operator.http("/q/health/group/kms");
    assertThat(group.statusCode()).isEqualTo(503);
    assertThat(group.body()).contains("kms-aws-kms").contains("KmsKeyNotFound");
  }

  @Test
  void disabledKeyDegradesItsSecretsAndTheyHealWhenItIsEnabled(TestNamespace ns) {
    create(ns, "on-switch", "aws-switch");

    aws.disableKey(b -> b.keyId(switchKeyId));
    try {
      Condition degraded =
          fixture.awaitCondition(ns.name(), "on-switch", "Degraded", "True", "KmsKeyDisabled");
      assertThat(degraded.getMessage())
          .contains(switchKeyId)
          .contains("Disabled")
          .contains("aws-switch");
      fixture.apply(ns.name(), manifest("new-on-switch", "aws-switch"));
      Condition notReady =
          fixture.awaitCondition(ns.name(), "new-on-switch", "Ready", "False", "KmsKeyDisabled");
      assertThat(notReady.getMessage()).contains("keywarden.kms.keys.aws-switch.key-id");
    } finally {
      aws.enableKey(b -> b.keyId(switchKeyId));
    }

    fixture.awaitCondition(ns.name(), "on-switch", "Degraded", "False", "Healthy");
    fixture.awaitReady(ns.name(), "new-on-switch");
  }

  @Test
  void migrationFromLocalToAwsAndBackKeepsEveryValue(TestNamespace ns) throws Exception {
    create(ns, "moving", "default");
    putValue(ns, "moving", "second value");
    putValue(ns, "moving", "{\"username\": \"orders\", \"password\": \"third\"}");
    ManagedSecret secret = fixture.get(ns.name(), "moving");
    assertThat(secret.getStatus().getVersions())
        .hasSize(3)
        .extracting(SecretVersion::getKmsKeyId)
        .containsOnly("default");
    Map<String, String> values = values(ns, secret);
    Map<String, Envelope> local = envelopes(secret);

    ManagedSecret onAws = migrate(ns, "moving", "aws-arn");
    Map<String, Envelope> aws = envelopes(onAws);
    for (var entry : local.entrySet()) {
      Envelope moved = aws.get(entry.getKey());
      assertThat(moved.kmsKeyId()).isEqualTo("aws-arn");
      assertThat(moved.nonce()).isEqualTo(entry.getValue().nonce());
      assertThat(moved.ciphertext()).isEqualTo(entry.getValue().ciphertext());
      // Really wrapped by AWS KMS now: moto unwraps it, under the version's encryption context.
      assertThat(
              new String(
                  unwrapByHand(moved, CiphertextStore.context(onAws, entry.getKey())),
                  StandardCharsets.UTF_8))
          .isEqualTo(values.get(entry.getKey()));
    }
    assertThat(values(ns, onAws)).isEqualTo(values);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                fixture.client.v1().events().inNamespace(ns.name()).list().getItems().stream()
                    .anyMatch(
                        e ->
                            "KmsKeyMigrated".equals(e.getReason())
                                && e.getMessage().contains("3 version(s)")
                                && e.getMessage().contains("'default' to 'aws-arn'")));

    ManagedSecret back = migrate(ns, "moving", "default");
    assertThat(envelopes(back).values()).extracting(Envelope::kmsKeyId).containsOnly("default");
    assertThat(values(ns, back)).isEqualTo(values);
    assertThat(back.getStatus().getCurrentVersionId())
        .isEqualTo(secret.getStatus().getCurrentVersionId());
  }

  @Test
  void outageServesCachedValuesAnswers503ForTheRestAndHealsByItself(TestNamespace ns)
      throws Exception {
    create(ns, "read-before", "aws");
    create(ns, "never-read", "aws");
    String cached = value(ns, "read-before", null);

    proxy.cut();
    try {
      assertThat(value(ns, "read-before", null)).isEqualTo(cached);
      HttpResponse<String> refused = api.get(path(ns, "never-read") + "/value", token(ns));
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.headers().firstValue("Retry-After")).isPresent();
      assertThat(JSON.readTree(refused.body()).path("__type").asText())
          .isEqualTo("ServiceUnavailableException");
      assertThat(refused.body()).contains("KmsUnavailable");
      for (String name : List.of("read-before", "never-read")) {
        Condition degraded =
            fixture.awaitCondition(ns.name(), name, "Degraded", "True", "KmsUnavailable");
        assertThat(degraded.getMessage()).contains("'aws'").contains("unreachable");
      }
      // Still ready (it serves what it has cached); the kms group tells the truth.
      HttpResponse<String> ready = fixture.operator.http("/q/health/ready");
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(ready.body()).contains("\"reachable\": false");
      assertThat(fixture.operator.http("/q/health/group/kms").statusCode()).isEqualTo(503);

      // A replica started during the outage has nothing cached: live, not ready, and 503 for every
      // value.
      fixture.operator.stop();
      fixture.operator.startLive();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> fixture.operator.http("/q/health/ready").statusCode() == 503);
      assertThat(fixture.operator.http("/q/health/live").statusCode()).isEqualTo(200);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> api.get(path(ns, "read-before") + "/value", token(ns)).statusCode() == 503);
    } finally {
      proxy.restore();
    }

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> fixture.operator.http("/q/health/ready").statusCode() == 200);
    fixture.awaitCondition(ns.name(), "read-before", "Degraded", "False", "Healthy");
    fixture.awaitCondition(ns.name(), "never-read", "Degraded", "False", "Healthy");
    assertThat(value(ns, "read-before", null)).isEqualTo(cached);
    assertThat(value(ns, "never-read", null)).isNotBlank();
  }

  private static String createKey(String alias) {
    String keyId =
        aws.createKey(b -> b.description("keywarden integration test")).keyMetadata().keyId();
    aws.createAlias(b -> b.aliasName(alias).targetKeyId(keyId));
    return aws.describeKey(b -> b.keyId(keyId)).keyMetadata().arn();
  }

  /**
   * What the operator does on a DEK-cache miss, by hand: AWS unwraps the data key, AES-GCM opens
   * the plaintext, whose first byte (envelope format 2) is the value's form: text here.
   */
  private static byte[] unwrapByHand(Envelope envelope, EncryptionContext context) {
    byte[] dek =
        aws.decrypt(
                b ->
                    b.ciphertextBlob(SdkBytes.fromByteArray(envelope.wrappedDek()))
                        .encryptionContext(context.asMap()))
            .plaintext()
            .asByteArray();
    byte[] plaintext =
        AesGcm.decrypt(dek, envelope.nonce(), envelope.ciphertext(), context.toAad());
    assertThat(envelope.format()).isEqualTo(Envelope.FORMAT_V2);
    assertThat(plaintext[0]).as("the form byte: text").isEqualTo(Envelope.FORM_TEXT);
    return java.util.Arrays.copyOfRange(plaintext, 1, plaintext.length);
  }

  private static String manifest(String name, String kmsKeyId) {
    return """
        apiVersion: keywarden.io/v1alpha1
        kind: ManagedSecret
        metadata: {name: %s}
        spec:
          kmsKeyId: %s
          generate: {passwordLength: 24}
          access: [{name: app, actions: [get, update]}]
        """
        .formatted(name, kmsKeyId);
  }

  private static ManagedSecret create(TestNamespace ns, String name, String kmsKeyId) {
    fixture.apply(ns.name(), manifest(name, kmsKeyId));
    return fixture.awaitReady(ns.name(), name);
  }

  private static ManagedSecret migrate(TestNamespace ns, String name, String kmsKeyId) {
    fixture
        .client
        .resources(ManagedSecret.class)
        .inNamespace(ns.name())
        .withName(name)
        .edit(
            s -> {
              s.getSpec().setKmsKeyId(kmsKeyId);
              return s;
            });
    return await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> fixture.get(ns.name(), name),
            s ->
                s.getStatus().getVersions().stream()
                    .allMatch(v -> kmsKeyId.equals(v.getKmsKeyId())));
  }

  private static Envelope envelope(ManagedSecret secret, String versionId) {
    Secret stored = fixture.ciphertext(secret, versionId);
    return Envelope.decode(
        Base64.getDecoder().decode(stored.getData().get(CiphertextStore.ENVELOPE_KEY)));
  }

  private static Map<String, Envelope> envelopes(ManagedSecret secret) {
    return secret.getStatus().getVersions().stream()
        .collect(
            Collectors.toMap(SecretVersion::getVersionId, v -> envelope(secret, v.getVersionId())));
  }

  private static Map<String, String> values(TestNamespace ns, ManagedSecret secret)
      throws Exception {
    Map<String, String> values = new HashMap<>();
    for (SecretVersion version : secret.getStatus().getVersions()) {
      values.put(
          version.getVersionId(),
          value(ns, secret.getMetadata().getName(), version.getVersionId()));
    }
    return values;
  }

  /**
   * GetSecretValue through the API (CURRENT when versionId is null), once RBAC lets the reader in.
   */
  private static String value(TestNamespace ns, String name, String versionId) throws Exception {
    String path = path(ns, name) + "/value" + (versionId == null ? "" : "?versionId=" + versionId);
    String token = token(ns);
    HttpResponse<String> response =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> api.get(path, token), r -> r.statusCode() == 200);
    String value = JSON.readTree(response.body()).path("SecretString").asText();
    VALUES.add(value);
    return value;
  }

  private static String putValue(TestNamespace ns, String name, String value) throws Exception {
    String body = JSON.createObjectNode().put("SecretString", value).toString();
    String token = token(ns);
    HttpResponse<String> response =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> api.put(path(ns, name) + "/value", token, body), r -> r.statusCode() == 200);
    String versionId = JSON.readTree(response.body()).path("VersionId").asText();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> versionId.equals(fixture.get(ns.name(), name).getStatus().getCurrentVersionId()));
    return versionId;
  }

  private static String path(TestNamespace ns, String name) {
    return "/v1/namespaces/" + ns.name() + "/managedsecrets/" + name;
  }

  private static String token(TestNamespace ns) {
    if (fixture.client.serviceAccounts().inNamespace(ns.name()).withName("app").get() == null) {
      fixture
          .client
          .serviceAccounts()
          .inNamespace(ns.name())
          .resource(
              new ServiceAccountBuilder().withNewMetadata().withName("app").endMetadata().build())
          .create();
    }
    return fixture.cluster.token(ns.name(), "app", "keywarden.io", 600);
  }
}
