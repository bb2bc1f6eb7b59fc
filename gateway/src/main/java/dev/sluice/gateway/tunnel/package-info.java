/**
 * WebSocket tunnels (SPEC §12): recognising an upgrade request, the upgrade headers forwarded
 * upstream, and the raw byte relay between a client and an upstream connection once the upstream
 * answered {@code 101 Switching Protocols}. The proxy ({@code dev.sluice.gateway.proxy}) decides
 * the upgrade request like any other and hands both channels over here.
 */
package dev.sluice.gateway.tunnel;
