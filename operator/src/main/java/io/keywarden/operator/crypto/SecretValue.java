package io.keywarden.operator.crypto;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/** A plaintext value. Never printed: toString redacts, and no exception message carries it. */
public final class SecretValue {

  private final byte[] bytes;

  private SecretValue(byte[] bytes) {
    this.bytes = bytes;
  }

  public static SecretValue of(byte[] bytes) {
    return new SecretValue(bytes.clone());
  }

  public static SecretValue ofString(String value) {
    return new SecretValue(value.getBytes(StandardCharsets.UTF_8));
  }

  public byte[] bytes() {
    return bytes.clone();
  }

  public String asString() {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  public int size() {
    return bytes.length;
  }

  /** Constant-time comparison, so that equality checks leak no timing about the value. */
  public boolean sameAs(SecretValue other) {
    return MessageDigest.isEqual(bytes, other.bytes);
  }

  /** Overwrites the bytes; for values whose lifetime the caller controls. */
  public void wipe() {
    Arrays.fill(bytes, (byte) 0);
  }

  @Override
  public String toString() {
    return "SecretValue[redacted, " + bytes.length + " bytes]";
  }
}
