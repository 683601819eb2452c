package io.keywarden.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A server's key manager, asked for the certificate on every handshake, so a renewal is one
 * reference swap. Vert.x's own HttpServer#updateSSLOptions (4.5.27) rebuilds the SSL context
 * asynchronously and, meanwhile, closes newly accepted connections with a NullPointerException in
 * TCPServerBase: clients (the apiserver calling the webhook, agents calling the API) would see
 * failed requests on every renewal. Give it to Vert.x with {@code KeyCertOptions.wrap(...)}.
 *
 * <p>Each certificate gets its own alias, and the previous one stays resolvable, so a handshake
 * that chose an alias just before a swap still gets a matching chain and key.
 */
public final class RotatingKeyManager extends X509ExtendedKeyManager {

  private record Entry(X509Certificate[] chain, PrivateKey key) {}

  private final AtomicLong generation = new AtomicLong();
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private volatile String currentAlias;

  /**
   * Serves {@code chain} (the serving certificate first) and its key to new handshakes from now.
   */
  public synchronized void use(X509Certificate[] chain, PrivateKey key) {
    if (chain.length == 0) {
      throw new IllegalArgumentException("empty certificate chain");
    }
    String alias = "serving-" + generation.incrementAndGet();
    entries.put(alias, new Entry(chain.clone(), key));
    String previous = currentAlias;
    currentAlias = alias;
    // Keep exactly the previous entry for handshakes in flight.
    entries.keySet().removeIf(other -> !other.equals(alias) && !other.equals(previous));
  }

  /** The certificate new handshakes get, if any. */
  public Optional<X509Certificate> current() {
    String alias = currentAlias;
    Entry entry = alias == null ? null : entries.get(alias);
    return entry == null ? Optional.empty() : Optional.of(entry.chain()[0]);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return aliasFor(keyType);
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return aliasFor(keyType);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    String alias = aliasFor(keyType);
    return alias == null ? null : new String[] {alias};
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Entry entry = alias == null ? null : entries.get(alias);
    return entry == null ? null : entry.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Entry entry = alias == null ? null : entries.get(alias);
    return entry == null ? null : entry.key();
  }

  /**
   * Only for the key's own algorithm ("EC"); any other answer would make the handshake sign with
   * the wrong key type.
   */
  private String aliasFor(String keyType) {
    String alias = currentAlias;
    Entry entry = alias == null ? null : entries.get(alias);
    return entry != null && entry.key().getAlgorithm().equals(keyType) ? alias : null;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }
}
