package io.keywarden.operator.api;

import io.keywarden.operator.crypto.Sha256;
import io.keywarden.operator.failure.RequestException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A NextToken: where the previous page ended (the sort key of its last item) and a digest of the
 * query, so a token is refused for another query. Stateless, so any replica continues any listing.
 * Keys are names and dates, never values.
 */
final class PageToken {

  private PageToken() {}

  static String next(String query, String lastKey) {
    String text = digest(query) + "\n" + lastKey;
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  /** The last key of the previous page, or null when there is no token. */
  static String after(String query, String token) {
    if (token == null) {
      return null;
    }
    String text;
    try {
      text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw invalid();
    }
    int newline = text.indexOf('\n');
    if (newline < 0 || !text.substring(0, newline).equals(digest(query))) {
      throw invalid();
    }
    return text.substring(newline + 1);
  }

  private static RuntimeException invalid() {
    return RequestException.invalidNextToken(
        "NextToken was not handed out for this query; send the NextToken of the previous answer"
            + " with the same parameters");
  }

  private static String digest(String query) {
    return HexFormat.of().formatHex(Sha256.ofUtf8(query), 0, 8);
  }
}
