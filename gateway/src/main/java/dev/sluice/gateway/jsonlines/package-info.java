/**
 * The bounded, asynchronous JSON-lines writer behind the audit log and the access log: entries
 * queue without blocking (dropped and counted when full), one thread writes, {@code SIGUSR1}
 * reopens the file for logrotate.
 */
package dev.sluice.gateway.jsonlines;
