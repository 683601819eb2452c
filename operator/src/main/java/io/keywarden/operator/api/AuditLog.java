package io.keywarden.operator.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * One JSON line per API request on the logger keywarden.audit: who, which secret and version, what,
 * allowed or denied and why, and how long it took. Never a value or a token.
 */
public final class AuditLog {

  private static final Logger AUDIT = Logger.getLogger("keywarden.audit");
  private final ObjectMapper json;

  public AuditLog(ObjectMapper json) {
    this.json = json;
  }

  public record Entry(
      String requestId,
      String subject,
      String namespace,
      String secret,
      String versionId,
      String action,
      boolean allowed,
      String reason,
      int status,
      double latencyMs,
      String remote) {}

  public void record(Entry entry) {
    ObjectNode line = json.createObjectNode();
    line.put("time", Instant.now().toString());
    line.put("audit", "keywarden.io/v1");
    line.put("requestId", entry.requestId());
    line.put("subject", entry.subject());
    line.put("namespace", entry.namespace());
    line.put("secret", entry.secret());
    line.put("versionId", entry.versionId());
    line.put("action", entry.action());
    line.put("allowed", entry.allowed());
    line.put("reason", entry.reason());
    line.put("status", entry.status());
    line.put("latencyMs", Math.round(entry.latencyMs() * 1000) / 1000.0);
    line.put("remote", entry.remote());
    AUDIT.info(line.toString());
  }
}
