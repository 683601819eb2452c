package io.keywarden.operator.crypto;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * A plaintext value and the form it was given in: text (AWS's {@code SecretString}, UTF-8 bytes) or
 * binary ({@code SecretBinary}). The form is kept so that a value comes back as it was put: bytes
 * that happen to be valid UTF-8 but were put as binary still come back as binary. Never printed:
 * toString redacts, and no exception message carries it.
 */
public final class SecretValue {

  private final byte[] bytes;
  private final boolean binary;

  private SecretValue(byte[] bytes, boolean binary) {
    this.bytes = bytes;
    this.binary = binary;
  }

  /**
   * Bytes from a source that carries no form (a Kubernetes Secret's data, an envelope stored before
   * forms were kept): text when they are valid UTF-8, binary otherwise.
   */
  public static SecretValue of(byte[] bytes) {
    return new SecretValue(bytes.clone(), !isUtf8(bytes));
  }

  /**
   * UTF-8 bytes of a value given as text, not checked again: for text already checked (an API put,
   * an envelope that says so under its authentication tag).
   */
  public static SecretValue text(byte[] utf8) {
    return new SecretValue(utf8.clone(), false);
  }

  /** Bytes given as binary ({@code SecretBinary}): they come back as binary. */
  public static SecretValue binary(byte[] bytes) {
    return new SecretValue(bytes.clone(), true);
  }

  public static SecretValue ofString(String value) {
    return new SecretValue(value.getBytes(StandardCharsets.UTF_8), false);
  }

  public byte[] bytes() {
    return bytes.clone();
  }

  /** True when the value was given as binary, false for text (whose bytes are UTF-8). */
  public boolean isBinary() {
    return binary;
  }

  public String asString() {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  public int size() {
    return bytes.length;
  }

  /**
   * Same form and same bytes. The bytes are compared in constant time, so that equality checks leak
   * no timing about the value.
   */
  public boolean sameAs(SecretValue other) {
    return MessageDigest.isEqual(bytes, other.bytes) && binary == other.binary;
  }

  /** Overwrites the bytes; for values whose lifetime the caller controls. */
  public void wipe() {
    Arrays.fill(bytes, (byte) 0);
  }

  /** Strict UTF-8 (no malformed or overlong sequences, no encoded surrogates). */
  public static boolean isUtf8(byte[] bytes) {
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "SecretValue[redacted, " + (binary ? "binary, " : "text, ") + bytes.length + " bytes]";
  }
}
