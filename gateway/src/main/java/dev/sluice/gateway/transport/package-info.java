/** The Netty transport (native epoll or NIO) of the gateway's listeners and upstream connections. */
package dev.sluice.gateway.transport;
