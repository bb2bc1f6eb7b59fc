/**
 * The gateway's edge against slow and numerous clients (SPEC §12): connection caps in total and
 * per peer address ({@link dev.sluice.gateway.edge.ConnectionCaps}), a deadline for the whole
 * request head and a bound on pauses inside a request body ({@link
 * dev.sluice.gateway.edge.ClientTimeouts}), and their metrics ({@link
 * dev.sluice.gateway.edge.EdgeMetrics}). Each is a Netty handler the proxy's pipeline adds in
 * front of the HTTP decoder; none knows about exchanges, which stay the client handler's.
 */
package dev.sluice.gateway.edge;
