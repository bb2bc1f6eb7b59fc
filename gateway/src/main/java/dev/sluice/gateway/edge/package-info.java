/**
 * The gateway's edge against slow and numerous clients (SPEC §12): connection caps in total and
 * per peer address ({@link dev.sluice.gateway.edge.ConnectionCaps}), a deadline for the whole
 * request head and a bound on pauses inside a request body ({@link
 * dev.sluice.gateway.edge.ClientTimeouts}, driven by the request decoder), their metrics ({@link
 * dev.sluice.gateway.edge.EdgeMetrics}), and closing after an answer while the client still
 * sends ({@link dev.sluice.gateway.edge.LingeringClose}). None knows about exchanges, which stay
 * the client handler's.
 */
package dev.sluice.gateway.edge;
