package io.keywarden.operator.kms;

import java.util.Arrays;

/** A data key in both forms. The plaintext is for one seal operation and then wiped. */
public record DataKey(byte[] plaintext, byte[] wrapped, int keyVersion) {

  public void wipe() {
    Arrays.fill(plaintext, (byte) 0);
  }

  @Override
  public String toString() {
    return "DataKey[keyVersion=" + keyVersion + ", redacted]";
  }
}
