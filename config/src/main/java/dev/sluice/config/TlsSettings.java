package dev.sluice.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS on both sides of the gateway (SPEC §12): {@code gateway.tls} (termination on the listener)
 * and {@code gateway.upstream_tls} (how an {@code https://} upstream is verified).
 *
 * <p>Only file names are held here; the gateway reads the certificate and key when it starts and
 * again on every {@code SIGHUP}, so a rotated certificate under the same name needs no restart.
 *
 * @param certFile the listener's certificate chain (PEM); empty = the listener speaks plain HTTP
 * @param keyFile the listener's private key (PEM, PKCS#8 or PKCS#1); present exactly when {@code certFile} is
 * @param upstreamCaFile the CA certificates (PEM) an {@code https://} upstream's chain must lead
 *     to; empty = the JDK's system trust store
 * @param insecureSkipVerify {@code upstream_tls.insecure_skip_verify}: accept any upstream
 *     certificate and host name (logged loudly at every start)
 */
public record TlsSettings(
    Optional<Path> certFile, Optional<Path> keyFile, Optional<Path> upstreamCaFile, boolean insecureSkipVerify) {

  /** No TLS termination; upstreams verified against the system trust store. */
  public static final TlsSettings DEFAULT =
      new TlsSettings(Optional.empty(), Optional.empty(), Optional.empty(), false);

  /**
   * Validates the settings.
   *
   * @throws IllegalArgumentException when only one of the certificate and the key is given
   */
  public TlsSettings {
    Objects.requireNonNull(certFile, "certFile");
    Objects.requireNonNull(keyFile, "keyFile");
    Objects.requireNonNull(upstreamCaFile, "upstreamCaFile");
    if (certFile.isPresent() != keyFile.isPresent()) {
      throw new IllegalArgumentException("tls needs both cert_file and key_file");
    }
  }

  /** Whether the listener terminates TLS. */
  public boolean terminates() {
    return certFile.isPresent();
  }
}
