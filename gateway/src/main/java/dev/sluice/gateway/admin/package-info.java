/**
 * The admin listener: {@code /healthz}, {@code /readyz}, {@code /metrics}. Meant to be bound to a
 * private address (loopback by default).
 */
package dev.sluice.gateway.admin;
