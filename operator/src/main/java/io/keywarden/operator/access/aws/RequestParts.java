package io.keywarden.operator.access.aws;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The parts of an HTTP request a signature covers, as received: method, the path and query exactly
 * as on the wire (still percent-encoded), headers by lower-case name with every value in order, and
 * the body bytes.
 */
public record RequestParts(
    String method, String path, String rawQuery, Map<String, List<String>> headers, byte[] body) {

  public RequestParts {
    TreeMap<String, List<String>> lower = new TreeMap<>();
    headers.forEach(
        (name, values) ->
            lower
                .computeIfAbsent(name.toLowerCase(Locale.ROOT), n -> new ArrayList<>())
                .addAll(values));
    lower.replaceAll((name, values) -> List.copyOf(values));
    headers = java.util.Collections.unmodifiableMap(lower);
    body = body == null ? new byte[0] : body;
    rawQuery = rawQuery == null ? "" : rawQuery;
  }

  /** The first value of a header, or null. */
  public String header(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? null : values.get(0);
  }
}
