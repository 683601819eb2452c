package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.api.v1alpha1.SecretVersion;
import io.keywarden.testcluster.TestCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads values through the secret-value API from the host, as a tenant's client would: a bound
 * token of the tenant's ServiceAccount (audience keywarden.io), the CA the operator publishes, and
 * the operator's cluster DNS name, which curl resolves to the Service's IP (kube-proxy forwards it
 * to a pod) or to one pod's IP (that replica answers).
 */
final class TenantReads {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final TestCluster cluster;
  private final String system;
  private final String tenant;
  private final String serviceAccount;

  TenantReads(TestCluster cluster, String system, String tenant, String serviceAccount) {
    this.cluster = cluster;
    this.system = system;
    this.tenant = tenant;
    this.serviceAccount = serviceAccount;
  }

  /** Every version the status lists, read by VersionId through the Service. */
  Map<String, String> allVersions(String secret) {
    return allVersions(secret, serviceIp());
  }

  /** Every version the status lists, read by VersionId from the replica at {@code address}. */
  Map<String, String> allVersions(String secret, String address) {
    ManagedSecret managed =
        cluster.admin().resources(ManagedSecret.class).inNamespace(tenant).withName(secret).get();
    List<String> ids =
        managed.getStatus().getVersions().stream().map(SecretVersion::getVersionId).toList();
    assertThat(ids).as("versions of %s", secret).isNotEmpty();
    Map<String, String> values = new TreeMap<>();
    String token = cluster.token(tenant, serviceAccount, "keywarden.io", 600);
    for (String id : ids) {
      JsonNode answer = get(token, address, secret, "?versionId=" + id);
      assertThat(answer.path("VersionId").asText()).isEqualTo(id);
      values.put(id, answer.path("SecretString").asText());
    }
    return values;
  }

  /** The CURRENT value, through the Service. */
  String current(String secret) {
    String token = cluster.token(tenant, serviceAccount, "keywarden.io", 600);
    return get(token, serviceIp(), secret, "").path("SecretString").asText();
  }

  String serviceIp() {
    return cluster
        .admin()
        .services()
        .inNamespace(system)
        .withName("keywarden-operator")
        .get()
        .getSpec()
        .getClusterIP();
  }

  private JsonNode get(String token, String address, String secret, String query) {
    String host = "keywarden-operator." + system + ".svc";
    Path ca = caFile();
    try {
      Tools.Result result =
          Tools.run(
              List.of(
                  "curl",
                  "-sS",
                  "--fail-with-body",
                  "--max-time",
                  "10",
                  "--retry",
                  "5",
                  "--retry-all-errors",
                  "--retry-delay",
                  "1",
                  "--cacert",
                  ca.toString(),
                  "--resolve",
                  host + ":8443:" + address,
                  "-H",
                  "@-",
                  "https://"
                      + host
                      + ":8443/v1/namespaces/"
                      + tenant
                      + "/managedsecrets/"
                      + secret
                      + "/value"
                      + query),
              Map.of(),
              // The header on stdin keeps the token out of the process list.
              "Authorization: Bearer " + token + "\n");
      return JSON.readTree(result.orFail());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      delete(ca);
    }
  }

  private Path caFile() {
    KubernetesClient admin = cluster.admin();
    String pem =
        admin
            .configMaps()
            .inNamespace(system)
            .withName("keywarden-api-ca")
            .get()
            .getData()
            .get("ca.crt");
    try {
      Path file = Files.createTempFile("keywarden-api-ca", ".pem");
      Files.writeString(file, pem);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
