package io.keywarden.operator.api.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keywarden.operator.config.TlsEngine;
import io.netty.handler.ssl.OpenSsl;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class ApiTlsEngineTest {

  @Test
  @EnabledOnOs(OS.LINUX)
  void theBuildsOpenSslLoadsOnLinux() {
    // The operator's pom brings netty-tcnative for linux-x86_64 and linux-aarch_64; if it stops
    // loading (a version that does not match Netty's), auto would quietly serve with the JDK's.
    assertThat(OpenSsl.isAvailable()).as("%s", OpenSsl.unavailabilityCause()).isTrue();
    ApiTlsEngine auto = ApiTlsEngine.choose(TlsEngine.AUTO);
    assertThat(auto.options()).isInstanceOf(OpenSSLEngineOptions.class);
    assertThat(auto.description()).startsWith("OpenSSL (BoringSSL");
    assertThat(ApiTlsEngine.choose(TlsEngine.OPENSSL).options())
        .isInstanceOf(OpenSSLEngineOptions.class);
  }

  @Test
  void jdkIsTheJdksEvenWhereOpenSslLoads() {
    ApiTlsEngine jdk = ApiTlsEngine.choose(TlsEngine.JDK, true);
    assertThat(jdk.options()).isInstanceOf(JdkSSLEngineOptions.class);
    assertThat(jdk.description()).isEqualTo("JDK");
  }

  @Test
  void autoFallsBackToTheJdkAndSaysWhy() {
    ApiTlsEngine auto = ApiTlsEngine.choose(TlsEngine.AUTO, false);
    assertThat(auto.options()).isInstanceOf(JdkSSLEngineOptions.class);
    assertThat(auto.description()).startsWith("JDK (OpenSSL cannot load: ");
  }

  @Test
  void opensslWithoutTheLibraryRefusesToStartNamingTheSetting() {
    assertThatThrownBy(() -> ApiTlsEngine.choose(TlsEngine.OPENSSL, false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("keywarden.api.tls.engine is openssl")
        .hasMessageContaining("set it to auto or jdk");
  }
}
