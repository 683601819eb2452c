package io.keywarden.contract;

import java.util.regex.Pattern;

/**
 * An AWS region name as the SDKs take it from {@code AWS_REGION}: lower-case letters, digits and
 * {@code -}, starting with a letter and not ending with {@code -}, at most 32 characters ({@code
 * us-east-1}, {@code eu-central-2}, {@code us-gov-west-1}). Keywarden has no regions; the name only
 * has to match the operator's {@code keywarden.aws.region}, which SigV4 signatures and ARNs carry.
 */
public final class AwsRegion {

  /** The operator's default {@code keywarden.aws.region}. */
  public static final String DEFAULT = "us-east-1";

  private static final Pattern TEXT = Pattern.compile("[a-z][a-z0-9-]{0,30}[a-z0-9]");

  private AwsRegion() {}

  public static String parse(String text) {
    if (!TEXT.matcher(text).matches() || text.contains("--")) {
      throw new GrammarException(
          "region "
              + GrammarException.quote(text)
              + " must be an AWS region name such as us-east-1 (lower-case letters, digits and '-')");
    }
    return text;
  }
}
