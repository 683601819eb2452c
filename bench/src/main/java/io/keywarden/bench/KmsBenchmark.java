package io.keywarden.bench;

import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.kms.DataKey;
import io.keywarden.operator.kms.KmsKey;
import io.keywarden.operator.kms.KmsKeys;
import io.keywarden.operator.kms.KmsProvider;
import io.keywarden.operator.kms.aws.AwsKmsProvider;
import io.keywarden.operator.kms.local.LocalKmsProvider;
import io.keywarden.operator.kms.local.MasterKeyStore;
import io.keywarden.operator.kms.pkcs11.PinSource;
import io.keywarden.operator.kms.pkcs11.Pkcs11KmsProvider;
import io.keywarden.operator.kms.pkcs11.TokenConnector;
import io.keywarden.operator.versions.EnvelopeCipher;
import io.keywarden.testcluster.MotoServer;
import io.keywarden.testcluster.RepositoryRoot;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * The KMS step of envelope encryption per provider, through the product's own classes
 * (EnvelopeCipher, KmsKeys and the providers): {@code wrap} is generateDataKey (the KMS step of
 * every seal), {@code unwrap} is decryptDataKey, {@code seal} is what the operator does for a new
 * version, {@code unsealCold} unwraps the data key through the KMS every time (DEK cache off:
 * keywarden.kms.dek-cache-ttl=0) and {@code unsealCached} is the same read with the cache warm. 1
 * KiB values.
 *
 * <p>aws-kms runs against a moto server started for the run on loopback: its figures measure moto
 * (a Python HTTP server) plus the SDK's request signing and HTTP round trip, not AWS KMS. pkcs11
 * needs a token: bench/run-kms makes one (bench/softhsm.sh) and passes SOFTHSM2_CONF,
 * BENCH_PKCS11_TOKEN and BENCH_PKCS11_PIN_FILE in the environment, which JMH's fork inherits.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
// The fork exports the JDK's PKCS#11 wrapper as the operator jar's manifest does (token by label).
@Fork(
    value = 1,
    jvmArgsAppend = "--add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED")
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
public class KmsBenchmark {

  private static final String ALIAS = "bench";
  private static final String REGION = "us-east-1";

  @Param({"local", "aws-kms", "pkcs11"})
  public String provider;

  private MotoServer moto;
  private KmsKey key;
  private EncryptionContext context;
  private DataKey wrapped;
  private SecretValue value;
  private Envelope sealed;
  private EnvelopeCipher cached;
  private EnvelopeCipher uncached;

  @Setup
  public void setUp() throws IOException {
    Map<String, String> properties = new HashMap<>();
    properties.put("keywarden.namespace", "keywarden-bench");
    properties.put("keywarden.kms.default-key-id", ALIAS);
    properties.put("keywarden.kms.keys." + ALIAS + ".provider", provider);
    properties.put(
        "keywarden.kms.keys." + ALIAS + ".key-id",
        switch (provider) {
          case LocalKmsProvider.TYPE -> localKey(properties);
          case AwsKmsProvider.TYPE -> awsKey(properties);
          case Pkcs11KmsProvider.TYPE -> pkcs11Key(properties);
          default -> throw new IllegalArgumentException("provider " + provider);
        });
    KeywardenConfig config = config(properties);
    KmsProvider kms =
        switch (provider) {
          case LocalKmsProvider.TYPE -> new LocalKmsProvider(new MasterKeyStore(null, config));
          case AwsKmsProvider.TYPE -> new AwsKmsProvider(config);
          default ->
              new Pkcs11KmsProvider(
                  new TokenConnector(config, new PinSource(null, config)), config);
        };
    KmsKeys keys = new KmsKeys(config, List.of(kms));
    key = keys.resolve(ALIAS);
    cached = new EnvelopeCipher(keys, config);
    properties.put("keywarden.kms.dek-cache-ttl", "0s");
    uncached = new EnvelopeCipher(keys, config(properties));

    context =
        new EncryptionContext(
            "team-a", "db-password", "7f1c2a9e-0d4b-4c55-9a57-2b1f6f1e9c11", "v1");
    wrapped = key.provider().generateDataKey(key.providerKeyId(), context);
    byte[] bytes = new byte[1024];
    new SecureRandom().nextBytes(bytes);
    value = SecretValue.binary(bytes);
    sealed = cached.seal(key, context, value);
    if (!cached.unseal(sealed, context).sameAs(value)
        || !uncached.unseal(sealed, context).sameAs(value)) {
      throw new IllegalStateException("an envelope does not open to its value");
    }
  }

  @TearDown
  public void tearDown() {
    if (moto != null) {
      moto.close();
    }
  }

  @Benchmark
  public DataKey wrap() {
    return key.provider().generateDataKey(key.providerKeyId(), context);
  }

  @Benchmark
  public byte[] unwrap() {
    return key.provider()
        .decryptDataKey(key.providerKeyId(), wrapped.keyVersion(), wrapped.wrapped(), context);
  }

  @Benchmark
  public Envelope seal() {
    return cached.seal(key, context, value);
  }

  @Benchmark
  public SecretValue unsealCold() {
    return uncached.unseal(sealed, context);
  }

  @Benchmark
  public SecretValue unsealCached() {
    return cached.unseal(sealed, context);
  }

  private static String localKey(Map<String, String> properties) throws IOException {
    Path keyFile = Files.createTempFile("keywarden-bench-keys", ".properties");
    keyFile.toFile().deleteOnExit();
    Files.writeString(
        keyFile, "bench.v1=" + Base64.getEncoder().encodeToString(AesGcm.newKey()) + "\n");
    properties.put("keywarden.kms.local.key-file", keyFile.toString());
    return "bench";
  }

  private String awsKey(Map<String, String> properties) {
    moto = MotoServer.start(RepositoryRoot.find().resolve("bench/target/kms-bench-moto.log"));
    try (KmsClient admin =
        KmsClient.builder()
            .region(Region.of(REGION))
            .endpointOverride(moto.endpoint())
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("bench", "bench")))
            .httpClientBuilder(UrlConnectionHttpClient.builder())
            .build()) {
      String keyId = admin.createKey(b -> b.description("keywarden bench")).keyMetadata().keyId();
      admin.createAlias(b -> b.aliasName("alias/keywarden-bench").targetKeyId(keyId));
    }
    // The SDK's default chain reads these system properties before the environment.
    System.setProperty("aws.accessKeyId", "bench");
    System.setProperty("aws.secretAccessKey", "bench");
    properties.put("keywarden.kms.aws.region", REGION);
    properties.put("keywarden.kms.aws.endpoint-override", moto.endpoint().toString());
    return "alias/keywarden-bench";
  }

  private static String pkcs11Key(Map<String, String> properties) {
    properties.put("keywarden.kms.pkcs11.token-label", env("BENCH_PKCS11_TOKEN"));
    properties.put("keywarden.kms.pkcs11.pin-file", env("BENCH_PKCS11_PIN_FILE"));
    return "keywarden-bench";
  }

  private static String env(String name) {
    String value = System.getenv(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          name + " is not set: run the pkcs11 cases through bench/run-kms, which makes a token");
    }
    return value;
  }

  private static KeywardenConfig config(Map<String, String> properties) {
    // Quarkus' own duration syntax (5m, 2s), as in application.properties.
    return new SmallRyeConfigBuilder()
        .withMapping(KeywardenConfig.class)
        .withConverter(Duration.class, 200, new DurationConverter())
        .withSources(new PropertiesConfigSource(Map.copyOf(properties), "bench", 500))
        .build()
        .getConfigMapping(KeywardenConfig.class);
  }
}
