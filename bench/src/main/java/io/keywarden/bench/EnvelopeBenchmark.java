package io.keywarden.bench;

import io.keywarden.operator.crypto.AesGcm;
import io.keywarden.operator.crypto.EncryptionContext;
import io.keywarden.operator.crypto.Envelope;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.modes.GCMModeCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
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
 * Envelope seal and unseal as the operator does them with the local KMS: a fresh 256-bit DEK per
 * seal, wrapped by the master key (AES-256-GCM, AAD = context + key id and version), and the value
 * encrypted under the DEK (AES-256-GCM, 96-bit random nonce, AAD = context). Unseal always unwraps
 * the DEK, i.e. the operator's path on a DEK-cache miss.
 *
 * <p>{@code jdk*} goes through {@link AesGcm} (the product code, JDK SunJCE provider); {@code bc*}
 * does the same steps with Bouncy Castle's lightweight API (GCMBlockCipher over AESEngine, pure
 * Java), not the BC JCA provider, so that no JCA lookup is measured on that side.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
// Defaults sized for a 2-core machine (about 2.5 minutes for all 8 runs); the command line may
// override them.
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class EnvelopeBenchmark {

  private static final String KEY_ID = "default";
  private static final int KEY_VERSION = 1;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  @Param({"1024", "65536"})
  public int valueBytes;

  private byte[] masterKey;
  private byte[] value;
  private EncryptionContext context;
  private Envelope jdkSealed;
  private Envelope bcSealed;

  @Setup
  public void setUp() {
    masterKey = AesGcm.newKey();
    value = new byte[valueBytes];
    RANDOM.nextBytes(value);
    context =
        new EncryptionContext(
            "team-a", "db-password", "7f1c2a9e-0d4b-4c55-9a57-2b1f6f1e9c11", "v1");
    jdkSealed = jdkSeal();
    bcSealed = bcSeal();
    // GCM is GCM: each side must open the other's envelope, or the comparison is meaningless.
    if (!Arrays.equals(value, bcUnseal(jdkSealed)) || !Arrays.equals(value, jdkUnseal(bcSealed))) {
      throw new IllegalStateException("JDK and Bouncy Castle envelopes do not interoperate");
    }
  }

  @Benchmark
  public Envelope jdkSeal() {
    byte[] aad = context.toAad();
    byte[] dek = AesGcm.newKey();
    try {
      AesGcm.Sealed wrapped = AesGcm.encrypt(masterKey, dek, wrapAad(aad));
      AesGcm.Sealed sealed = AesGcm.encrypt(dek, value, aad);
      return new Envelope(
          Envelope.FORMAT_V1,
          KEY_ID,
          KEY_VERSION,
          concat(wrapped.nonce(), wrapped.ciphertext()),
          sealed.nonce(),
          sealed.ciphertext());
    } finally {
      Arrays.fill(dek, (byte) 0);
    }
  }

  @Benchmark
  public byte[] jdkUnseal() {
    return jdkUnseal(jdkSealed);
  }

  @Benchmark
  public Envelope bcSeal() {
    byte[] aad = context.toAad();
    byte[] dek = AesGcm.newKey();
    try {
      byte[] wrapNonce = nonce();
      byte[] wrapped = bc(true, masterKey, wrapNonce, dek, wrapAad(aad));
      byte[] valueNonce = nonce();
      return new Envelope(
          Envelope.FORMAT_V1,
          KEY_ID,
          KEY_VERSION,
          concat(wrapNonce, wrapped),
          valueNonce,
          bc(true, dek, valueNonce, value, aad));
    } finally {
      Arrays.fill(dek, (byte) 0);
    }
  }

  @Benchmark
  public byte[] bcUnseal() {
    return bcUnseal(bcSealed);
  }

  private byte[] jdkUnseal(Envelope envelope) {
    byte[] aad = context.toAad();
    byte[] wrapped = envelope.wrappedDek();
    byte[] dek =
        AesGcm.decrypt(
            masterKey,
            Arrays.copyOf(wrapped, AesGcm.NONCE_BYTES),
            Arrays.copyOfRange(wrapped, AesGcm.NONCE_BYTES, wrapped.length),
            wrapAad(aad));
    try {
      return AesGcm.decrypt(dek, envelope.nonce(), envelope.ciphertext(), aad);
    } finally {
      Arrays.fill(dek, (byte) 0);
    }
  }

  private byte[] bcUnseal(Envelope envelope) {
    byte[] aad = context.toAad();
    byte[] wrapped = envelope.wrappedDek();
    byte[] dek =
        bc(
            false,
            masterKey,
            Arrays.copyOf(wrapped, AesGcm.NONCE_BYTES),
            Arrays.copyOfRange(wrapped, AesGcm.NONCE_BYTES, wrapped.length),
            wrapAad(aad));
    try {
      return bc(false, dek, envelope.nonce(), envelope.ciphertext(), aad);
    } finally {
      Arrays.fill(dek, (byte) 0);
    }
  }

  /** One AES-256-GCM operation with a new cipher, as AesGcm gets a new JCA Cipher per call. */
  private static byte[] bc(boolean encrypt, byte[] key, byte[] nonce, byte[] input, byte[] aad) {
    GCMModeCipher gcm = GCMBlockCipher.newInstance(AESEngine.newInstance());
    gcm.init(encrypt, new AEADParameters(new KeyParameter(key), TAG_BITS, nonce, aad));
    byte[] out = new byte[gcm.getOutputSize(input.length)];
    int length = gcm.processBytes(input, 0, input.length, out, 0);
    try {
      length += gcm.doFinal(out, length);
    } catch (InvalidCipherTextException e) {
      throw new IllegalStateException("authentication tag mismatch", e);
    }
    return length == out.length ? out : Arrays.copyOf(out, length);
  }

  private static byte[] nonce() {
    byte[] nonce = new byte[AesGcm.NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    return nonce;
  }

  /** The local KMS binds the wrapped DEK to the context and to the master key id and version. */
  private static byte[] wrapAad(byte[] contextAad) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(contextAad);
    out.writeBytes(("|" + KEY_ID + "|" + KEY_VERSION).getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
