/**
 * Prometheus metrics of the gateway ({@code sluice_requests_total}, {@code sluice_decision_seconds},
 * {@code sluice_store_errors_total}, {@code sluice_upstream_seconds},
 * {@code sluice_store_evictions_total}), fed by decision events and by the proxy.
 */
package dev.sluice.gateway.metrics;
