package io.keywarden.bench;

import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.crypto.Envelope;
import io.keywarden.operator.crypto.EnvelopeCipher;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.kms.DataKey;
import io.keywarden.operator.kms.KmsKey;
import io.keywarden.operator.kms.KmsKeys;
import io.keywarden.operator.kms.KmsProvider;
import io.keywarden.operator.kms.local.LocalKmsProvider;
import io.keywarden.operator.kms.local.MasterKeyStore;
import io.keywarden.operator.kms.pkcs11.PinSource;
import io.keywarden.operator.kms.pkcs11.Pkcs11KmsProvider;
import io.keywarden.operator.kms.pkcs11.TokenConnector;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import jakarta.enterprise.inject.Instance;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The KMS part of envelope encryption through the product's providers, local (master keys in
 * software, from a key file) against pkcs11 (AES-GCM inside a SoftHSM2 token), and what the DEK
 * cache saves: {@code wrap} is generateDataKey (the KMS step of every seal), {@code unwrap} is
 * decryptDataKey, {@code unsealNoCache} and {@code unsealCached} are EnvelopeCipher.unseal of a
 * 1 KiB value with the cache off and with a hit.
 *
 * <p>pkcs11 needs a token: bench/run-kms makes one (bench/softhsm.sh) and passes SOFTHSM2_CONF,
 * BENCH_PKCS11_TOKEN and BENCH_PKCS11_PIN_FILE in the environment, which JMH's fork inherits.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
// The fork exports the JDK's PKCS#11 wrapper as the operator jar's manifest does (token by label).
@Fork(value = 1, jvmArgsAppend = "--add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class Pkcs11KmsBenchmark {

  private static final String ALIAS = "bench";

  @Param({"local", "pkcs11"})
  public String provider;

  private KmsProvider kms;
  private String keyId;
  private EncryptionContext context;
  private DataKey wrapped;
  private Envelope envelope;
  private EnvelopeCipher cached;
  private EnvelopeCipher uncached;

  @Setup
  public void setUp() throws IOException {
    Map<String, String> properties = new HashMap<>();
    properties.put("keywarden.namespace", "keywarden-bench");
    properties.put("keywarden.kms.default-key-id", ALIAS);
    properties.put("keywarden.kms.keys." + ALIAS + ".provider", provider);
    if ("local".equals(provider)) {
      keyId = "bench";
      Path keyFile = Files.createTempFile("keywarden-bench-keys", ".properties");
      keyFile.toFile().deleteOnExit();
      Files.writeString(keyFile, keyId + ".v1=" + Base64.getEncoder().encodeToString(AesGcm.newKey()) + "\n");
      properties.put("keywarden.kms.local.key-file", keyFile.toString());
    } else {
      keyId = "keywarden-bench";
      properties.put("keywarden.kms.pkcs11.token-label", env("BENCH_PKCS11_TOKEN"));
      properties.put("keywarden.kms.pkcs11.pin-file", env("BENCH_PKCS11_PIN_FILE"));
    }
    properties.put("keywarden.kms.keys." + ALIAS + ".key-id", keyId);
    KeywardenConfig config = config(properties);
    kms = "local".equals(provider)
        ? new LocalKmsProvider(new MasterKeyStore(null, config))
        : new Pkcs11KmsProvider(new TokenConnector(config, new PinSource(null, config)), config);
    KmsKeys keys = new KmsKeys(config, instanceOf(kms));
    cached = new EnvelopeCipher(keys, config);
    properties.put("keywarden.kms.dek-cache-ttl", "0s");
    uncached = new EnvelopeCipher(keys, config(properties));

    context = new EncryptionContext("team-a", "db-password", "7f1c2a9e-0d4b-4c55-9a57-2b1f6f1e9c11", "v1");
    wrapped = kms.generateDataKey(keyId, context);
    byte[] value = new byte[1024];
    new SecureRandom().nextBytes(value);
    KmsKey key = keys.resolve(ALIAS);
    envelope = cached.seal(key, context, SecretValue.of(value));
    if (!cached.unseal(envelope, context).sameAs(uncached.unseal(envelope, context))) {
      throw new IllegalStateException("the two ciphers disagree");
    }
  }

  @Benchmark
  public DataKey wrap() {
    return kms.generateDataKey(keyId, context);
  }

  @Benchmark
  public byte[] unwrap() {
    return kms.decryptDataKey(keyId, wrapped.keyVersion(), wrapped.wrapped(), context);
  }

  @Benchmark
  public SecretValue unsealNoCache() {
    return uncached.unseal(envelope, context);
  }

  @Benchmark
  public SecretValue unsealCached() {
    return cached.unseal(envelope, context);
  }

  private static String env(String name) {
    String value = System.getenv(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(name + " is not set: run the pkcs11 cases through bench/run-kms, which makes a token");
    }
    return value;
  }

  private static KeywardenConfig config(Map<String, String> properties) {
    return new SmallRyeConfigBuilder().withMapping(KeywardenConfig.class)
        .withConverter(Duration.class, 200, new DurationConverter())
        .withSources(new PropertiesConfigSource(Map.copyOf(properties), "bench", 500)).build()
        .getConfigMapping(KeywardenConfig.class);
  }

  /** KmsKeys takes the CDI beans of all providers; it only iterates them. */
  @SuppressWarnings("unchecked")
  private static Instance<KmsProvider> instanceOf(KmsProvider provider) {
    List<KmsProvider> all = List.of(provider);
    return (Instance<KmsProvider>) Proxy.newProxyInstance(Pkcs11KmsBenchmark.class.getClassLoader(), new Class<?>[] {Instance.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "iterator" -> all.iterator();
          case "forEach" -> {
            all.forEach((Consumer<KmsProvider>) args[0]);
            yield null;
          }
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }
}
