package io.keywarden.operator.api.tls;

import io.keywarden.operator.config.TlsEngine;
import io.netty.handler.ssl.OpenSsl;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.net.TCPSSLOptions;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;

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
 * <p>Left to itself, Vert.x gives OpenSSL every cipher suite BoringSSL has ({@code ALL}),
 * static-RSA key exchange included. OpenSSL here serves the JVM's own default suites instead (those
 * it has), so both engines offer the same suites and {@code jdk.tls.disabledAlgorithms} still
 * removes suites from either.
 *
 * @param options what Vert.x builds its server's SSL contexts with
 * @param cipherSuites the suites to enable, in the JDK's names and order; empty for the engine's
 *     defaults
 * @param description the engine for the start line, e.g. {@code OpenSSL (BoringSSL)} or {@code JDK
 *     (OpenSSL cannot load: ...)}
 * @param fellBack whether {@code auto} wanted OpenSSL and could not load it
 */
public record ApiTlsEngine(
    SSLEngineOptions options, List<String> cipherSuites, String description, boolean fellBack) {

  public ApiTlsEngine {
    cipherSuites = List.copyOf(cipherSuites);
  }

  /**
   * Resolves the setting; {@code jdk} never loads the native library.
   *
   * @throws IllegalStateException for {@link TlsEngine#OPENSSL} when the library cannot load, with
   *     the reasons Netty gives
   */
  public static ApiTlsEngine choose(TlsEngine setting) {
    return choose(setting, OpenSsl::isAvailable);
  }

  /** As {@link #choose(TlsEngine)}; {@code openSslLoads} is not asked for {@code jdk}. */
  static ApiTlsEngine choose(TlsEngine setting, BooleanSupplier openSslLoads) {
    if (setting == TlsEngine.JDK) {
      return jdk("JDK", false);
    }
    if (openSslLoads.getAsBoolean()) {
      return new ApiTlsEngine(
          new OpenSSLEngineOptions(),
          jdkDefaultSuites().stream().filter(OpenSsl::isCipherSuiteAvailable).toList(),
          "OpenSSL (" + OpenSsl.versionString() + ")",
          false);
    }
    if (setting == TlsEngine.OPENSSL) {
      throw new IllegalStateException(
          "keywarden.api.tls.engine is openssl, but OpenSSL (netty-tcnative) cannot load here: "
              + unavailability()
              + "; set it to auto or jdk to serve with the JDK's TLS");
    }
    return jdk("JDK (OpenSSL cannot load: " + unavailability() + ")", true);
  }

  /** Sets the engine and, for OpenSSL, the cipher suites. */
  public void applyTo(TCPSSLOptions server) {
    server.setSslEngineOptions(options);
    cipherSuites.forEach(server::addEnabledCipherSuite);
  }

  private static ApiTlsEngine jdk(String description, boolean fellBack) {
    return new ApiTlsEngine(new JdkSSLEngineOptions(), List.of(), description, fellBack);
  }

  /** The suites a JDK server engine enables by default on this JVM, in its order of preference. */
  static List<String> jdkDefaultSuites() {
    try {
      return List.of(SSLContext.getDefault().getDefaultSSLParameters().getCipherSuites());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no default SSLContext", e);
    }
  }

  /**
   * Why the library did not load. Netty's cause only says that none of the names it tried loaded;
   * the reasons (a {@code noexec} tmpdir, a missing libdl, a full disk) are its suppressed
   * exceptions and their causes, which Netty logs at DEBUG only.
   */
  private static String unavailability() {
    Throwable cause = OpenSsl.unavailabilityCause();
    if (cause == null) {
      return "not available";
    }
    Set<String> reasons = new LinkedHashSet<>();
    collect(cause, reasons, 0);
    return String.join("; ", reasons);
  }

  private static void collect(Throwable t, Set<String> reasons, int depth) {
    if (t == null || depth > 6) {
      return;
    }
    reasons.add(t.toString());
    for (Throwable suppressed : t.getSuppressed()) {
      collect(suppressed, reasons, depth + 1);
    }
    collect(t.getCause(), reasons, depth + 1);
  }
}
