package io.keywarden.operator.access;

import java.util.List;
import java.util.Map;

/** Who is calling, as TokenReview established it. Holds no credential. */
public record Caller(
    String username, String uid, List<String> groups, Map<String, List<String>> extra) {

  public Caller {
    groups = List.copyOf(groups);
    extra = Map.copyOf(extra);
  }

  /** The ServiceAccount namespace, for system:serviceaccount:NS:NAME users. */
  public String serviceAccountNamespace() {
    String prefix = "system:serviceaccount:";
    if (!username.startsWith(prefix)) {
      return null;
    }
    String rest = username.substring(prefix.length());
    int colon = rest.indexOf(':');
    return colon < 0 ? null : rest.substring(0, colon);
  }
}
