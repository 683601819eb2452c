package io.keywarden.operator.crypto;

import io.keywarden.operator.failure.CorruptEnvelopeException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The only form in which a value is stored: the wrapped data key, the KMS key that wrapped it, and
 * the AES-GCM nonce and ciphertext (tag included). The binary layout starts with a format byte so
 * that it can evolve; every later field is length-prefixed.
 *
 * <p>{@link #FORMAT_V1}: the ciphertext's plaintext is the value's bytes. {@link #FORMAT_V2}: it is
 * one byte of the value's form ({@link #FORM_TEXT} or {@link #FORM_BINARY}), then the bytes; the
 * form is inside the ciphertext, so it is authenticated and travels through re-wrapping, recovery
 * and backups untouched. Version 1 envelopes stay readable.
 */
public record Envelope(
    int format,
    String kmsKeyId,
    int keyVersion,
    byte[] wrappedDek,
    byte[] nonce,
    byte[] ciphertext) {

  public static final int FORMAT_V1 = 1;
  public static final int FORMAT_V2 = 2;
  public static final byte FORM_TEXT = 0;
  public static final byte FORM_BINARY = 1;

  public Envelope {
    if (format != FORMAT_V1 && format != FORMAT_V2) {
      throw new CorruptEnvelopeException("unknown envelope format " + format);
    }
  }

  public byte[] encode() {
    byte[] keyId = kmsKeyId.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out =
        new ByteArrayOutputStream(
            16 + keyId.length + wrappedDek.length + nonce.length + ciphertext.length);
    ByteBuffer header =
        ByteBuffer.allocate(1 + 2 + keyId.length + 4 + 2 + wrappedDek.length + 1 + nonce.length);
    header.put((byte) format);
    header.putShort((short) keyId.length).put(keyId);
    header.putInt(keyVersion);
    header.putShort((short) wrappedDek.length).put(wrappedDek);
    header.put((byte) nonce.length).put(nonce);
    out.writeBytes(header.array());
    out.writeBytes(ciphertext);
    return out.toByteArray();
  }

  public static Envelope decode(byte[] bytes) {
    try {
      ByteBuffer in = ByteBuffer.wrap(bytes);
      int format = in.get() & 0xff;
      if (format != FORMAT_V1 && format != FORMAT_V2) {
        throw new CorruptEnvelopeException("unknown envelope format " + format);
      }
      byte[] keyId = new byte[in.getShort() & 0xffff];
      in.get(keyId);
      int keyVersion = in.getInt();
      byte[] wrapped = new byte[in.getShort() & 0xffff];
      in.get(wrapped);
      byte[] nonce = new byte[in.get() & 0xff];
      in.get(nonce);
      byte[] ciphertext = new byte[in.remaining()];
      in.get(ciphertext);
      return new Envelope(
          format,
          new String(keyId, StandardCharsets.UTF_8),
          keyVersion,
          wrapped,
          nonce,
          ciphertext);
    } catch (java.nio.BufferUnderflowException e) {
      throw new CorruptEnvelopeException("truncated envelope");
    }
  }

  public Envelope withWrappedDek(int newKeyVersion, String newKmsKeyId, byte[] newWrappedDek) {
    return new Envelope(format, newKmsKeyId, newKeyVersion, newWrappedDek, nonce, ciphertext);
  }

  @Override
  public String toString() {
    return "Envelope[format="
        + format
        + ", kmsKeyId="
        + kmsKeyId
        + ", keyVersion="
        + keyVersion
        + ", ciphertext="
        + ciphertext.length
        + " bytes]";
  }
}
