package io.keywarden.operator.kms.aws;

/**
 * What DescribeKey and ListKeyRotations say about a key, cached briefly.
 *
 * @param arn the key's ARN (aliases resolved), or the configured id when DescribeKey is not
 *     permitted
 * @param state the AWS KeyState (Enabled, Disabled, PendingDeletion...), or null when unknown
 * @param version 1 plus the number of completed rotations of the key material: AWS keeps every
 *     older material and picks the right one from the ciphertext, so this number only tells
 *     rotateEncryptionKey which envelopes predate the newest material
 */
record AwsKeyState(String arn, String state, int version) {

  static final String ENABLED = "Enabled";

  /**
   * Unknown counts as usable: AWS itself refuses a disabled key, and we would only have guessed.
   */
  boolean usable() {
    return state == null || ENABLED.equals(state);
  }

  AwsKeyState withVersion(int newVersion) {
    return new AwsKeyState(arn, state, newVersion);
  }
}
