/**
 * TLS on both sides of the proxy (SPEC §12): the listener's certificate, reloadable on
 * {@code SIGHUP} ({@link dev.sluice.gateway.tls.ListenerTls}), and the verification of
 * {@code https://} upstreams ({@link dev.sluice.gateway.tls.UpstreamTls}). Built on Netty's
 * {@code SslContext} with the JDK provider.
 */
package dev.sluice.gateway.tls;
