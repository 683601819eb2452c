package io.keywarden.operator.api.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.operator.config.TlsEngine;
import io.netty.handler.ssl.OpenSsl;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class ApiTlsEngineTest {

  @Test
  @EnabledOnOs(
      value = OS.LINUX,
      architectures = {"amd64", "aarch64"})
  void theBuildsOpenSslLoadsAndServesTheJdksDefaultSuites() {
    // The operator's pom brings netty-tcnative for linux-x86_64 and linux-aarch_64; if it stops
    // loading (a version that does not match Netty's), auto would quietly serve with the JDK's.
    assertThat(OpenSsl.isAvailable()).as("%s", OpenSsl.unavailabilityCause()).isTrue();
    ApiTlsEngine auto = ApiTlsEngine.choose(TlsEngine.AUTO);
    assertThat(auto.options()).isInstanceOf(OpenSSLEngineOptions.class);
    assertThat(auto.description()).startsWith("OpenSSL (BoringSSL");
    assertThat(auto.fellBack()).isFalse();
    assertThat(ApiTlsEngine.choose(TlsEngine.OPENSSL).options())
        .isInstanceOf(OpenSSLEngineOptions.class);

    // Not BoringSSL's ALL: the JVM's defaults, in its order, TLS 1.3 and ECDHE with AEAD among
    // them.
    assertThat(auto.cipherSuites())
        .containsSubsequence(
            "TLS_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
        .isSubsetOf(ApiTlsEngine.jdkDefaultSuites())
        .noneMatch(s -> s.contains("3DES") || s.contains("RC4") || s.contains("NULL"))
        .noneMatch(s -> s.contains("anon") || s.contains("EXPORT") || s.contains("PSK"));
    assertThat(OpenSsl.availableJavaCipherSuites()).hasSizeGreaterThan(auto.cipherSuites().size());

    HttpServerOptions server = new HttpServerOptions();
    auto.applyTo(server);
    assertThat(server.getSslEngineOptions()).isInstanceOf(OpenSSLEngineOptions.class);
    assertThat(server.getEnabledCipherSuites())
        .containsExactlyInAnyOrderElementsOf(auto.cipherSuites());
  }

  @Test
  void jdkIsTheJdksWithItsOwnDefaultSuites() {
    BooleanSupplier mustNotBeAsked =
        () -> {
          throw new AssertionError("jdk asked whether OpenSSL loads");
        };
    for (ApiTlsEngine jdk :
        new ApiTlsEngine[] {
          ApiTlsEngine.choose(TlsEngine.JDK), ApiTlsEngine.choose(TlsEngine.JDK, mustNotBeAsked)
        }) {
      assertThat(jdk.options()).isInstanceOf(JdkSSLEngineOptions.class);
      assertThat(jdk.description()).isEqualTo("JDK");
      assertThat(jdk.cipherSuites()).isEmpty();
      assertThat(jdk.fellBack()).isFalse();
      HttpServerOptions server = new HttpServerOptions();
      jdk.applyTo(server);
      assertThat(server.getSslEngineOptions()).isInstanceOf(JdkSSLEngineOptions.class);
      assertThat(server.getEnabledCipherSuites()).isEmpty();
    }
  }

  @Test
  void autoFallsBackToTheJdkAndSaysWhy() {
    ApiTlsEngine auto = ApiTlsEngine.choose(TlsEngine.AUTO, () -> false);
    assertThat(auto.options()).isInstanceOf(JdkSSLEngineOptions.class);
    assertThat(auto.description()).startsWith("JDK (OpenSSL cannot load: ");
    assertThat(auto.fellBack()).isTrue();
    assertThat(auto.cipherSuites()).isEmpty();
  }

  @Test
  void opensslWithoutTheLibraryRefusesToStartNamingTheSetting() {
    assertThatThrownBy(() -> ApiTlsEngine.choose(TlsEngine.OPENSSL, () -> false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("keywarden.api.tls.engine is openssl")
        .hasMessageContaining("set it to auto or jdk");
  }
}
