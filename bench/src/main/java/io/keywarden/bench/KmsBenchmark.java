package io.keywarden.bench;

import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.EnvelopeCipher;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.kms.KmsKey;
import io.keywarden.operator.kms.KmsKeys;
import io.keywarden.operator.kms.KmsProvider;
import io.keywarden.operator.kms.aws.AwsKmsProvider;
import io.keywarden.operator.kms.local.LocalKmsProvider;
import io.keywarden.operator.kms.local.MasterKeyStore;
import io.keywarden.testcluster.MotoServer;
import io.keywarden.testcluster.RepositoryRoot;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
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
 * Wrap and unwrap latency per KMS provider, through the product's own classes (EnvelopeCipher,
 * KmsKeys, LocalKmsProvider, AwsKmsProvider): {@code seal} is what the operator does for a new
 * version (a fresh data key wrapped by the KMS, the value encrypted under it); {@code unsealCold}
 * unwraps the data key through the KMS every time (DEK cache off: keywarden.kms.dek-cache-ttl=0);
 * {@code unsealCached} is the same read with the DEK cache on and warm. 1 KiB values.
 *
 * <p>aws-kms runs against a moto server started for the run on loopback: its figures measure
 * moto (a Python HTTP server) plus the SDK's request signing and HTTP round trip, not AWS KMS.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
public class KmsBenchmark {

  private static final String REGION = "us-east-1";

  @Param({"local", "aws-kms"})
  public String provider;

  private MotoServer moto;
  private EnvelopeCipher uncached;
  private EnvelopeCipher cached;
  private KmsKey key;
  private EncryptionContext context;
  private SecretValue value;
  private Envelope sealed;

  @Setup
  public void setUp() throws IOException {
    Path dir = Files.createTempDirectory("keywarden-kms-bench");
    Path keyFile = dir.resolve("master-keys.properties");
    Files.writeString(keyFile, "local.v1=" + Base64.getEncoder().encodeToString(AesGcm.newKey()) + "\n");
    Map<String, String> properties = new java.util.HashMap<>(Map.of(
        "keywarden.namespace", "bench",
        "keywarden.kms.default-key-id", "local",
        "keywarden.kms.keys.local.provider", "local",
        "keywarden.kms.local.key-file", keyFile.toString()));
    if (provider.equals(AwsKmsProvider.TYPE)) {
      moto = MotoServer.start(RepositoryRoot.find().resolve("bench/target/kms-bench-moto.log"));
      String keyId;
      try (KmsClient admin = KmsClient.builder().region(Region.of(REGION)).endpointOverride(moto.endpoint())
          .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("bench", "bench")))
          .httpClientBuilder(UrlConnectionHttpClient.builder()).build()) {
        keyId = admin.createKey(b -> b.description("keywarden bench")).keyMetadata().keyId();
        admin.createAlias(b -> b.aliasName("alias/keywarden-bench").targetKeyId(keyId));
      }
      // The SDK's default chain reads these system properties before the environment.
      System.setProperty("aws.accessKeyId", "bench");
      System.setProperty("aws.secretAccessKey", "bench");
      properties.put("keywarden.kms.keys.aws.provider", AwsKmsProvider.TYPE);
      properties.put("keywarden.kms.keys.aws.key-id", "alias/keywarden-bench");
      properties.put("keywarden.kms.aws.region", REGION);
      properties.put("keywarden.kms.aws.endpoint-override", moto.endpoint().toString());
    }
    KeywardenConfig config = config(properties, "5m");
    List<KmsProvider> providers = List.of(new LocalKmsProvider(new MasterKeyStore(null, config)), new AwsKmsProvider(config));
    KmsKeys keys = new KmsKeys(config, providers);
    key = keys.resolve(provider.equals(AwsKmsProvider.TYPE) ? "aws" : "local");
    cached = new EnvelopeCipher(keys, config);
    uncached = new EnvelopeCipher(keys, config(properties, "0s"));
    context = new EncryptionContext("team-a", "db-password", "7f1c2a9e-0d4b-4c55-9a57-2b1f6f1e9c11", "v1");
    byte[] bytes = new byte[1024];
    new SecureRandom().nextBytes(bytes);
    value = SecretValue.of(bytes);
    sealed = cached.seal(key, context, value);
    if (!cached.unseal(sealed, context).sameAs(value) || !uncached.unseal(sealed, context).sameAs(value)) {
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

  private static KeywardenConfig config(Map<String, String> properties, String dekCacheTtl) {
    Map<String, String> all = new java.util.HashMap<>(properties);
    all.put("keywarden.kms.dek-cache-ttl", dekCacheTtl);
    // Quarkus' own duration syntax (5m, 2s), as in application.properties.
    SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(KeywardenConfig.class)
        .withConverter(java.time.Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter())
        .withSources(new PropertiesConfigSource(all, "bench", 100)).build();
    return config.getConfigMapping(KeywardenConfig.class);
  }
}
