package io.keywarden.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.contract.FileEntry;
import io.keywarden.contract.Format;
import io.keywarden.contract.Refresh;
import io.keywarden.contract.Stage;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What kubelet sends for an inline volume, parsed once; every refusal names what to fix. */
class PodVolumeTest {

  @Test
  void parsesThePodTheTokenAndTheFilesInTheAnnotationsGrammar() throws Exception {
    Map<String, String> context = kubelet();
    context.put("secret.db.env", "db");
    context.put("format.db.env", "env");
    context.put("stage.db.env", "PREVIOUS");
    context.put("secret.password", "db");
    context.put("key.password", "password");
    context.put("file-mode", "0400");
    context.put("refresh", "5m");

    PodVolume volume = PodVolume.parse(context, Map.of());

    assertThat(volume.pod()).isEqualTo("shop/web");
    assertThat(volume.serviceAccount()).isEqualTo("app");
    assertThat(volume.token()).isEqualTo("pod-token-123");
    assertThat(volume.toString()).doesNotContain("pod-token-123");
    assertThat(volume.files().files())
        .containsExactly(
            new FileEntry("db.env", "db", null, Format.ENV, Stage.PREVIOUS),
            new FileEntry("password", "db", "password", Format.RAW, Stage.CURRENT));
    assertThat(volume.files().fileMode()).isEqualTo(0400);
    assertThat(volume.files().refresh()).isEqualTo(new Refresh.Every(Duration.ofMinutes(5)));
    assertThat(volume.attributes())
        .as("the pod's own attributes, kept to be parsed again on resume; no kubelet key")
        .containsOnlyKeys(
            "secret.db.env",
            "format.db.env",
            "stage.db.env",
            "secret.password",
            "key.password",
            "file-mode",
            "refresh");
    assertThat(volume.tokenExpiry()).isEmpty();
  }

  @Test
  void theTokensExpiryIsKubeletsExpirationTimestamp() throws Exception {
    Map<String, String> context = kubelet();
    context.put("secret.password", "db");
    context.put(
        PodVolume.TOKENS,
        "{\"keywarden.io\":{\"token\":\"pod-token-123\","
            + "\"expirationTimestamp\":\"2030-01-01T00:00:00Z\"}}");

    PodVolume volume = PodVolume.parse(context, Map.of());

    assertThat(volume.tokenExpiry()).contains(Instant.parse("2030-01-01T00:00:00Z"));
    assertThat(volume.tokenExpiredAt(Instant.parse("2029-12-31T23:59:59Z"))).isFalse();
    assertThat(volume.tokenExpiredAt(Instant.parse("2030-01-01T00:00:00Z"))).isTrue();
  }

  @Test
  void aResumedVolumeGoesThroughTheSameGrammar() throws Exception {
    Map<String, String> context = kubelet();
    context.put("secret.password", "db");
    context.put("key.password", "password");
    PodVolume published = PodVolume.parse(context, Map.of());

    PodVolume resumed =
        PodVolume.resume(
            "shop",
            "web",
            "uid-1",
            "app",
            "pod-token-123",
            Optional.empty(),
            published.attributes());

    assertThat(resumed).isEqualTo(published);
    assertThatThrownBy(
            () ->
                PodVolume.resume(
                    "shop",
                    "web",
                    "uid-1",
                    "app",
                    "pod-token-123",
                    Optional.empty(),
                    Map.of("secret.password", "db", "format.password", "yaml")))
        .hasMessageStartingWith("volume attribute format.password: unknown format 'yaml'");
  }

  /**
   * With the shipped CSIDriver ({@code serviceAccountTokenInSecrets: true}) kubelet sends the token
   * in the request's secrets, which the CSI spec keeps out of logs; the volume context then holds
   * only the pod's keys and attributes.
   */
  @Test
  void theTokenComesFromTheSecretsWhenKubeletPutsItThere() throws Exception {
    Map<String, String> context = kubelet();
    context.remove(PodVolume.TOKENS);
    context.put("secret.password", "db");
    Map<String, String> secrets =
        Map.of(
            PodVolume.TOKENS,
            "{\"keywarden.io\":{\"token\":\"secret-token-456\","
                + "\"expirationTimestamp\":\"2030-01-01T00:00:00Z\"}}");

    PodVolume volume = PodVolume.parse(context, secrets);

    assertThat(volume.token()).isEqualTo("secret-token-456");
    assertThat(volume.tokenExpiry()).contains(Instant.parse("2030-01-01T00:00:00Z"));
    assertThat(volume.attributes()).containsOnlyKeys("secret.password");
    assertThat(volume.toString()).doesNotContain("secret-token-456");
  }

  /** An older cluster, or a CSIDriver without the field: the token is in the volume context. */
  @Test
  void withoutItInTheSecretsTheTokenComesFromTheVolumeContext() throws Exception {
    Map<String, String> context = kubelet();
    context.put("secret.password", "db");

    PodVolume volume = PodVolume.parse(context, Map.of("other-secret", "ignored"));

    assertThat(volume.token()).isEqualTo("pod-token-123");
    assertThat(volume.attributes()).containsOnlyKeys("secret.password");
  }

  /**
   * With the token in the secrets, kubelet no longer overrides a pod's own volume attribute named
   * {@code csi.storage.k8s.io/serviceAccount.tokens}: it must not replace kubelet's token, even
   * when kubelet's has no entry for the audience.
   */
  @Test
  void aTokenInTheSecretsIsNeverReplacedByOneInTheVolumeContext() throws Exception {
    Map<String, String> context = kubelet();
    context.put("secret.password", "db");
    context.put(PodVolume.TOKENS, "{\"keywarden.io\":{\"token\":\"pod-written-token\"}}");

    PodVolume volume =
        PodVolume.parse(
            context, Map.of(PodVolume.TOKENS, "{\"keywarden.io\":{\"token\":\"kubelets\"}}"));
    assertThat(volume.token()).isEqualTo("kubelets");

    assertThatThrownBy(
            () ->
                PodVolume.parse(context, Map.of(PodVolume.TOKENS, "{\"vault\":{\"token\":\"x\"}}")))
        .isInstanceOf(PodVolume.InvalidVolumeException.class)
        .hasMessage(
            "kubelet sent no token for audience keywarden.io in"
                + " csi.storage.k8s.io/serviceAccount.tokens of the secrets: the CSIDriver object"
                + " needs tokenRequests: [{audience: keywarden.io}]");
    assertThatThrownBy(() -> PodVolume.parse(context, Map.of(PodVolume.TOKENS, "{tok")))
        .hasMessage("csi.storage.k8s.io/serviceAccount.tokens of the secrets is not JSON");
  }

  @Test
  void aTokenInNeitherTheSecretsNorTheVolumeContextIsRefusedNamingTheFix() {
    Map<String, String> context = kubelet();
    context.remove(PodVolume.TOKENS);
    context.put("secret.password", "db");

    assertThatThrownBy(() -> PodVolume.parse(context, Map.of("other-secret", "x")))
        .isInstanceOf(PodVolume.InvalidVolumeException.class)
        .hasMessage(
            "kubelet sent no token for audience keywarden.io in"
                + " csi.storage.k8s.io/serviceAccount.tokens of the secrets or the volume context:"
                + " the CSIDriver object needs tokenRequests: [{audience: keywarden.io}]");
  }

  static Stream<Arguments> refusals() {
    return Stream.of(
        Arguments.of(
            "not ephemeral", PodVolume.EPHEMERAL, null, "only CSI ephemeral inline volumes"),
        Arguments.of(
            "no token (tokenRequests missing)",
            PodVolume.TOKENS,
            null,
            "kubelet sent no token for audience keywarden.io"),
        Arguments.of(
            "token for another audience",
            PodVolume.TOKENS,
            "{\"vault\":{\"token\":\"x\"}}",
            "needs tokenRequests: [{audience: keywarden.io}]"),
        Arguments.of(
            "token field not JSON",
            PodVolume.TOKENS,
            "{tok",
            "csi.storage.k8s.io/serviceAccount.tokens of the volume context is not JSON"),
        Arguments.of(
            "no pod namespace (podInfoOnMount off)",
            PodVolume.POD_NAMESPACE,
            null,
            "needs podInfoOnMount: true"),
        Arguments.of(
            "unknown attribute",
            "on-change",
            "signal:SIGHUP",
            "volume attribute on-change: unknown Keywarden volume attribute"),
        Arguments.of(
            "path in a file name",
            "secret.../etc/passwd",
            "db",
            "volume attribute secret.../etc/passwd: file name '../etc/passwd' must be a plain name"),
        Arguments.of(
            "key without its secret",
            "key.other",
            "password",
            "volume attribute key.other: no matching secret.other volume attribute names the ManagedSecret"),
        Arguments.of(
            "bad secret name",
            "secret.password",
            "DB_Password",
            "volume attribute secret.password: ManagedSecret name 'DB_Password' is not a DNS-1123 subdomain"),
        Arguments.of(
            "bad file mode",
            "file-mode",
            "777",
            "volume attribute file-mode: file mode '777' must be four octal digits"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusals")
  void refuses(String name, String key, String value, String message) {
    Map<String, String> context = kubelet();
    context.put("secret.password", "db");
    if (value == null) {
      context.remove(key);
    } else {
      context.put(key, value);
    }

    assertThatThrownBy(() -> PodVolume.parse(context, Map.of()))
        .isInstanceOf(PodVolume.InvalidVolumeException.class)
        .hasMessageContaining(message)
        .hasMessageNotContaining("pod-token-123");
  }

  @Test
  void aVolumeWithoutSecretsIsRefused() {
    assertThatThrownBy(() -> PodVolume.parse(kubelet(), Map.of()))
        .hasMessageStartingWith("volume attribute secret.<file>: the volume names no secret");
  }

  static Stream<Arguments> tokenBindings() {
    return Stream.of(
        Arguments.of("the pod's own token", "shop", "web", "app", null),
        Arguments.of(
            "another namespace's token",
            "billing",
            "web",
            "app",
            "the pod's token is bound to namespace billing, not to"
                + " csi.storage.k8s.io/pod.namespace shop"),
        Arguments.of(
            "another pod's token",
            "shop",
            "admin",
            "app",
            "the pod's token is bound to pod admin, not to csi.storage.k8s.io/pod.name web"),
        Arguments.of(
            "another ServiceAccount's token",
            "shop",
            "web",
            "admin",
            "the pod's token is of ServiceAccount admin, not of"
                + " csi.storage.k8s.io/serviceAccount.name app"));
  }

  /**
   * The namespace the plugin names and asks the API for is the token's: a context whose pod keys
   * disagree with the token (a CSIDriver without podInfoOnMount lets a pod's attributes through) is
   * refused.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("tokenBindings")
  void theTokenMustBeBoundToThePodKubeletNames(
      String name, String namespace, String pod, String serviceAccount, String refusal)
      throws Exception {
    Map<String, String> context = kubelet();
    context.put("secret.password", "db");
    String claims =
        "{\"aud\":[\"keywarden.io\"],\"kubernetes.io\":{\"namespace\":\""
            + namespace
            + "\",\"pod\":{\"name\":\""
            + pod
            + "\",\"uid\":\"uid-1\"},\"serviceaccount\":{\"name\":\""
            + serviceAccount
            + "\",\"uid\":\"sa-1\"}}}";
    String jwt =
        "eyJhbGciOiJSUzI1NiJ9."
            + java.util.Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(claims.getBytes(java.nio.charset.StandardCharsets.UTF_8))
            + ".c2lnbmF0dXJl";
    context.put(PodVolume.TOKENS, "{\"keywarden.io\":{\"token\":\"" + jwt + "\"}}");

    if (refusal == null) {
      assertThat(PodVolume.parse(context, Map.of()).token()).isEqualTo(jwt);
    } else {
      assertThatThrownBy(() -> PodVolume.parse(context, Map.of()))
          .isInstanceOf(PodVolume.InvalidVolumeException.class)
          .hasMessageStartingWith(refusal)
          .hasMessageContaining("podInfoOnMount: true and tokenRequests")
          .hasMessageNotContaining(jwt);
    }
  }

  private static Map<String, String> kubelet() {
    Map<String, String> context = new HashMap<>();
    context.put(PodVolume.EPHEMERAL, "true");
    context.put(PodVolume.POD_NAME, "web");
    context.put(PodVolume.POD_NAMESPACE, "shop");
    context.put(PodVolume.POD_UID, "uid-1");
    context.put(PodVolume.SERVICE_ACCOUNT, "app");
    context.put(PodVolume.TOKENS, "{\"keywarden.io\":{\"token\":\"pod-token-123\"}}");
    return context;
  }
}
