package io.keywarden.operator.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.operator.failure.CorruptEnvelopeException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class EnvelopeCryptoTest {

  private static final EncryptionContext CONTEXT =
      new EncryptionContext("team-a", "db-password", "uid-1", "v-1");
  private final byte[] key = AesGcm.newKey();

  @Test
  void envelopeSurvivesEncodeAndDecode() {
    AesGcm.Sealed sealed =
        AesGcm.encrypt(key, "s3cr3t".getBytes(StandardCharsets.UTF_8), CONTEXT.toAad());
    Envelope envelope =
        new Envelope(
            Envelope.FORMAT_V2,
            "default",
            7,
            new byte[] {1, 2, 3},
            sealed.nonce(),
            sealed.ciphertext());

    Envelope decoded = Envelope.decode(envelope.encode());

    assertThat(decoded.format()).isEqualTo(Envelope.FORMAT_V2);
    assertThat(decoded.kmsKeyId()).isEqualTo("default");
    assertThat(decoded.keyVersion()).isEqualTo(7);
    assertThat(decoded.wrappedDek()).containsExactly(1, 2, 3);
    assertThat(decoded.nonce()).hasSize(12).isEqualTo(sealed.nonce());
    assertThat(
            new String(
                AesGcm.decrypt(key, decoded.nonce(), decoded.ciphertext(), CONTEXT.toAad()),
                StandardCharsets.UTF_8))
        .isEqualTo("s3cr3t");
  }

  @Test
  void everyEncryptionUsesAFreshNonce() {
    byte[] plaintext = "same".getBytes(StandardCharsets.UTF_8);
    assertThat(AesGcm.encrypt(key, plaintext, CONTEXT.toAad()).nonce())
        .isNotEqualTo(AesGcm.encrypt(key, plaintext, CONTEXT.toAad()).nonce());
  }

  @Test
  void anyFlippedByteFailsTheTag() {
    byte[] plaintext = new byte[1024];
    AesGcm.Sealed sealed = AesGcm.encrypt(key, plaintext, CONTEXT.toAad());
    for (int i = 0; i < sealed.ciphertext().length; i += 97) {
      byte[] altered = sealed.ciphertext().clone();
      altered[i] ^= 0x40;
      assertThatThrownBy(() -> AesGcm.decrypt(key, sealed.nonce(), altered, CONTEXT.toAad()))
          .isInstanceOf(CorruptEnvelopeException.class)
          .hasMessageContaining("authentication tag mismatch");
    }
  }

  @Test
  void ciphertextDoesNotDecryptUnderAnotherSecretOrVersion() {
    AesGcm.Sealed sealed =
        AesGcm.encrypt(key, "v".getBytes(StandardCharsets.UTF_8), CONTEXT.toAad());
    for (EncryptionContext other :
        new EncryptionContext[] {
          new EncryptionContext("team-b", "db-password", "uid-1", "v-1"),
          new EncryptionContext("team-a", "db-password2", "uid-1", "v-1"),
          new EncryptionContext("team-a", "db-password", "uid-2", "v-1"),
          new EncryptionContext("team-a", "db-password", "uid-1", "v-2")
        }) {
      assertThatThrownBy(
              () -> AesGcm.decrypt(key, sealed.nonce(), sealed.ciphertext(), other.toAad()))
          .isInstanceOf(CorruptEnvelopeException.class);
    }
  }

  @Test
  void aadIsUnambiguousAcrossFieldBoundaries() {
    assertThat(new EncryptionContext("ab", "c", "u", "v").toAad())
        .isNotEqualTo(new EncryptionContext("a", "bc", "u", "v").toAad());
  }

  @Test
  void unknownFormatAndTruncationAreReported() {
    assertThatThrownBy(() -> Envelope.decode(new byte[] {9, 0, 0}))
        .hasMessageContaining("unknown envelope format 9");
    assertThatThrownBy(() -> Envelope.decode(new byte[] {1, 0, 40}))
        .hasMessageContaining("truncated");
  }

  @Test
  void secretValueNeverPrintsItself() {
    SecretValue value = SecretValue.ofString("hunter2");
    assertThat(value.toString()).doesNotContain("hunter2").contains("7 bytes");
    assertThat(SecretValue.binary(new byte[] {1, 2}).toString()).contains("binary, 2 bytes");
    assertThat(
            new Envelope(Envelope.FORMAT_V1, "default", 1, new byte[32], new byte[12], new byte[40])
                .toString())
        .doesNotContain("[B@");
  }

  @Test
  void aValueKeepsTheFormItWasGivenIn() {
    byte[] text = "hello".getBytes(StandardCharsets.UTF_8);
    assertThat(SecretValue.of(text).isBinary()).isFalse();
    assertThat(SecretValue.binary(text).isBinary()).isTrue();
    assertThat(SecretValue.of(new byte[] {(byte) 0xff, 0x00}).isBinary()).isTrue();
    // an encoded surrogate (CESU-8) is not UTF-8
    assertThat(SecretValue.of(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}).isBinary())
        .isTrue();
    // the same bytes in another form are another value (ClientRequestToken idempotency)
    assertThat(SecretValue.of(text).sameAs(SecretValue.binary(text))).isFalse();
    assertThat(SecretValue.binary(text).sameAs(SecretValue.binary(text))).isTrue();
  }

  @Test
  void aVersion2EnvelopeAndItsFormByteSurviveEncoding() {
    Envelope envelope =
        new Envelope(Envelope.FORMAT_V2, "k", 3, new byte[] {7}, new byte[12], new byte[17]);
    Envelope decoded = Envelope.decode(envelope.encode());
    assertThat(decoded.format()).isEqualTo(Envelope.FORMAT_V2);
    assertThat(decoded.withWrappedDek(4, "k2", new byte[] {8}).format())
        .isEqualTo(Envelope.FORMAT_V2);
    assertThatThrownBy(() -> Envelope.decode(new byte[] {3, 0, 0}))
        .hasMessageContaining("unknown envelope format 3");
  }
}
