package io.keywarden.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.contract.FileEntry;
import io.keywarden.contract.Format;
import io.keywarden.contract.Refresh;
import io.keywarden.contract.Stage;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
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

    PodVolume volume = PodVolume.parse(context);

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
            "csi.storage.k8s.io/serviceAccount.tokens is not JSON"),
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

    assertThatThrownBy(() -> PodVolume.parse(context))
        .isInstanceOf(PodVolume.InvalidVolumeException.class)
        .hasMessageContaining(message)
        .hasMessageNotContaining("pod-token-123");
  }

  @Test
  void aVolumeWithoutSecretsIsRefused() {
    assertThatThrownBy(() -> PodVolume.parse(kubelet()))
        .hasMessageStartingWith("volume attribute secret.<file>: the volume names no secret");
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
