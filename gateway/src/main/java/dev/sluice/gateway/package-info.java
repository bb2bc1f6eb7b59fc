/**
 * The Sluice gateway: {@link dev.sluice.gateway.Gateway} wires the engine, the reverse proxy, the
 * admin listener, metrics and the audit log into one running process. The HTTP mechanics live in
 * {@code dev.sluice.gateway.proxy}; response formatting, metrics, audit and admin in their own
 * packages.
 */
package dev.sluice.gateway;
