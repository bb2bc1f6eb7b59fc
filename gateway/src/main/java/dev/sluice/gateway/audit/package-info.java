/**
 * The audit log: one JSON line per limited, blocked or shadow-limited request, written off the
 * event loop by a single writer thread.
 */
package dev.sluice.gateway.audit;
