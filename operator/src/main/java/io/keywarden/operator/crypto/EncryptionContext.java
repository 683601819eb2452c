package io.keywarden.operator.crypto;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a ciphertext is bound to: the ManagedSecret (namespace, name, uid) and the version. Used as
 * the AES-GCM additional authenticated data and as the KMS encryption context, so a ciphertext
 * moved to another secret or version fails to decrypt.
 */
public record EncryptionContext(String namespace, String name, String uid, String versionId) {

  /** Unambiguous bytes: each field length-prefixed, so no two contexts encode alike. */
  public byte[] toAad() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("keywarden/v1".getBytes(StandardCharsets.US_ASCII));
    for (String field : new String[] {namespace, name, uid, versionId}) {
      byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
      out.write(bytes.length >>> 8);
      out.write(bytes.length & 0xff);
      out.writeBytes(bytes);
    }
    return out.toByteArray();
  }

  /** The same binding as an AWS KMS EncryptionContext. */
  public Map<String, String> asMap() {
    Map<String, String> map = new LinkedHashMap<>();
    map.put("keywarden:namespace", namespace);
    map.put("keywarden:name", name);
    map.put("keywarden:uid", uid);
    map.put("keywarden:version", versionId);
    return map;
  }
}
