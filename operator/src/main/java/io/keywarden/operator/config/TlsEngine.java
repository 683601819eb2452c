package io.keywarden.operator.config;

/** Which TLS implementation serves the API port ({@code keywarden.api.tls.engine}). */
public enum TlsEngine {
  /** OpenSSL when its library loads on this machine, the JDK's otherwise. */
  AUTO,
  /** OpenSSL, or the operator does not start. */
  OPENSSL,
  /** The JDK's {@code SSLEngine}. */
  JDK
}
