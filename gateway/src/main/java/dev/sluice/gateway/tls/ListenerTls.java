package dev.sluice.gateway.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS termination on the client listener: TLS 1.2 and 1.3 only, the certificate chain and key read
 * from PEM files.
 *
 * <p>Design: the {@link SslContext} sits in an {@link AtomicReference}; each new connection takes
 * the one in force when it is accepted, so {@link #reload()} swaps the certificate for new
 * connections while open ones keep theirs. A reload that cannot read the files keeps the old
 * certificate and says why.
 *
 * <p>Thread-safe.
 */
public final class ListenerTls {
  private static final Logger log = LoggerFactory.getLogger(ListenerTls.class);
  /** Protocols the listener accepts; TLS 1.0 and 1.1 are refused in the handshake. */
  static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private final Path certFile;
  private final Path keyFile;
  private final AtomicReference<SslContext> context = new AtomicReference<>();

  private ListenerTls(Path certFile, Path keyFile) {
    this.certFile = certFile;
    this.keyFile = keyFile;
  }

  /**
   * Reads the certificate and key.
   *
   * @throws IllegalStateException when they cannot be read or do not form a usable pair (the
   *     message names the files and the reason)
   */
  public static ListenerTls load(Path certFile, Path keyFile) {
    ListenerTls tls = new ListenerTls(Objects.requireNonNull(certFile, "certFile"),
        Objects.requireNonNull(keyFile, "keyFile"));
    tls.context.set(tls.build());
    log.info("TLS on the listener: {}", tls.describe());
    return tls;
  }

  /**
   * Re-reads the certificate and key (on {@code SIGHUP}); new connections get the new certificate.
   * On failure the certificate in force stays.
   *
   * @return one line saying what is served now, or why the old certificate stays
   */
  public String reload() {
    try {
      context.set(build());
      String text = "TLS certificate reloaded: " + describe();
      log.info(text);
      return text;
    } catch (IllegalStateException e) {
      String text = "TLS certificate not reloaded, the previous one stays: " + e.getMessage();
      log.warn(text);
      return text;
    }
  }

  /** A TLS handler for a newly accepted connection, with the certificate in force now. */
  public SslHandler newHandler(Channel ch) {
    return context.get().newHandler(ch.alloc());
  }

  private SslContext build() {
    try {
      return SslContextBuilder.forServer(certFile.toFile(), keyFile.toFile())
          .sslProvider(SslProvider.JDK)
          .protocols(PROTOCOLS)
          .build();
    } catch (Exception e) {
      throw new IllegalStateException("cannot use the TLS certificate " + certFile + " with the key " + keyFile
          + ": " + reason(e) + "; expected a PEM certificate chain and its PEM (PKCS#8) private key", e);
    }
  }

  /** Subject, serial and expiry of the leaf certificate, for the log. */
  private String describe() {
    try (InputStream in = Files.newInputStream(certFile)) {
      X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      return certFile + " (subject " + leaf.getSubjectX500Principal().getName() + ", serial "
          + leaf.getSerialNumber().toString(16) + ", expires " + leaf.getNotAfter().toInstant() + ")";
    } catch (Exception e) {
      return certFile.toString();
    }
  }

  /** The innermost message of a TLS failure (the JDK nests the useful one), for logs and 502 details. */
  public static String reason(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }
}
