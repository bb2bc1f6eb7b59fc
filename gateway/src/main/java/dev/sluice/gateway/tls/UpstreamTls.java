package dev.sluice.gateway.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.nio.file.Path;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS to an {@code https://} upstream: the chain is verified against {@code upstream_tls.ca_file}
 * or the JDK's system trust store, the host name (or IP address) of the upstream URL against the
 * certificate, and SNI carries the host name. {@code insecure_skip_verify: true} turns both checks
 * off and is logged as a warning at every start.
 *
 * <p>Thread-safe.
 */
public final class UpstreamTls {
  private static final Logger log = LoggerFactory.getLogger(UpstreamTls.class);

  private final SslContext context;
  private final boolean verify;
  private final String host;
  private final int port;

  private UpstreamTls(SslContext context, boolean verify, String host, int port) {
    this.context = context;
    this.verify = verify;
    this.host = host;
    this.port = port;
  }

  /**
   * The client TLS setup for the upstream at {@code host:port}.
   *
   * @param caFile the CA certificates (PEM) to trust; empty = the system trust store
   * @param insecureSkipVerify accept any certificate for any name
   * @throws IllegalStateException when the CA file cannot be read
   */
  public static UpstreamTls create(String host, int port, Optional<Path> caFile, boolean insecureSkipVerify) {
    SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
        .protocols(ListenerTls.PROTOCOLS);
    if (insecureSkipVerify) {
      builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
      log.warn("gateway.upstream_tls.insecure_skip_verify is true: the certificate of https://{}:{} is NOT"
          + " verified (any server can pose as the upstream); use upstream_tls.ca_file instead", host, port);
    } else if (caFile.isPresent()) {
      builder.trustManager(caFile.get().toFile());
    }
    try {
      SslContext context = builder.build();
      if (!insecureSkipVerify) {
        log.info("https upstream {}:{} verified against {}", host, port,
            caFile.map(p -> "the CA file " + p).orElse("the system trust store"));
      }
      return new UpstreamTls(context, !insecureSkipVerify, host, port);
    } catch (Exception e) {
      throw new IllegalStateException("cannot use gateway.upstream_tls.ca_file "
          + caFile.map(Path::toString).orElse("") + ": " + ListenerTls.reason(e)
          + "; expected PEM CA certificates", e);
    }
  }

  /** A TLS handler for a new upstream connection: SNI and, unless insecure, host-name verification. */
  public SslHandler newHandler(Channel ch) {
    SslHandler handler = context.newHandler(ch.alloc(), host, port);
    if (verify) {
      SSLEngine engine = handler.engine();
      SSLParameters params = engine.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      engine.setSSLParameters(params);
    }
    return handler;
  }
}
