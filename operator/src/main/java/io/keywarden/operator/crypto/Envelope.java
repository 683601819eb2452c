package io.keywarden.operator.crypto;

import io.keywarden.operator.failure.CorruptEnvelopeException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The only form in which a value is stored: the wrapped data key, the KMS key that wrapped it, and
 * the AES-GCM nonce and ciphertext (tag included). The binary layout starts with a format byte so
 * that it can evolve; every later field is length-prefixed.
 */
public record Envelope(
    String kmsKeyId, int keyVersion, byte[] wrappedDek, byte[] nonce, byte[] ciphertext) {

  public static final int FORMAT_V1 = 1;

  public byte[] encode() {
    byte[] keyId = kmsKeyId.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out =
        new ByteArrayOutputStream(
            16 + keyId.length + wrappedDek.length + nonce.length + ciphertext.length);
    ByteBuffer header =
        ByteBuffer.allocate(1 + 2 + keyId.length + 4 + 2 + wrappedDek.length + 1 + nonce.length);
    header.put((byte) FORMAT_V1);
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
      if (format != FORMAT_V1) {
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
          new String(keyId, StandardCharsets.UTF_8), keyVersion, wrapped, nonce, ciphertext);
    } catch (java.nio.BufferUnderflowException e) {
      throw new CorruptEnvelopeException("truncated envelope");
    }
  }

  public Envelope withWrappedDek(int newKeyVersion, String newKmsKeyId, byte[] newWrappedDek) {
    return new Envelope(newKmsKeyId, newKeyVersion, newWrappedDek, nonce, ciphertext);
  }

  @Override
  public String toString() {
    return "Envelope[kmsKeyId="
        + kmsKeyId
        + ", keyVersion="
        + keyVersion
        + ", ciphertext="
        + ciphertext.length
        + " bytes]";
  }
}
