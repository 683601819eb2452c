package io.keywarden.operator.api.tls;

import io.keywarden.operator.config.TlsEngine;
import io.netty.handler.ssl.OpenSsl;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;

/**
 * The TLS engine the API port serves with, resolved from {@code keywarden.api.tls.engine} on this
 * machine.
 *
 * <p>OpenSSL is BoringSSL from netty-tcnative, statically linked, which Netty unpacks into {@code
 * java.io.tmpdir} when it first loads (the chart gives the operator an {@code emptyDir} there).
 * Against the JDK's {@code SSLEngine} it took 18-36 % more TLS handshakes per second and a third
 * less heap per open connection (docs/benchmarks.md). Both engines ask the same rotating key
 * manager on every handshake, so renewal and reload of the certificate work alike.
 *
 * @param options what Vert.x builds its server's SSL contexts with
 * @param description the engine for the start line, e.g. {@code OpenSSL (BoringSSL)} or {@code JDK
 *     (OpenSSL cannot load: ...)}
 */
public record ApiTlsEngine(SSLEngineOptions options, String description) {

  /**
   * Resolves the setting.
   *
   * @throws IllegalStateException for {@link TlsEngine#OPENSSL} when the library cannot load, with
   *     the reason Netty gives
   */
  public static ApiTlsEngine choose(TlsEngine setting) {
    return choose(setting, OpenSsl.isAvailable());
  }

  static ApiTlsEngine choose(TlsEngine setting, boolean openSslLoads) {
    if (setting != TlsEngine.JDK && openSslLoads) {
      return new ApiTlsEngine(
          new OpenSSLEngineOptions(), "OpenSSL (" + OpenSsl.versionString() + ")");
    }
    if (setting == TlsEngine.OPENSSL) {
      throw new IllegalStateException(
          "keywarden.api.tls.engine is openssl, but OpenSSL (netty-tcnative) cannot load here: "
              + unavailability()
              + "; set it to auto or jdk to serve with the JDK's TLS");
    }
    return new ApiTlsEngine(
        new JdkSSLEngineOptions(),
        setting == TlsEngine.JDK ? "JDK" : "JDK (OpenSSL cannot load: " + unavailability() + ")");
  }

  private static String unavailability() {
    Throwable cause = OpenSsl.unavailabilityCause();
    return cause == null ? "not available" : cause.toString();
  }
}
