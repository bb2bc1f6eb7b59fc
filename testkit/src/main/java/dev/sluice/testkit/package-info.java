/**
 * Real processes for tests: the example Flask API under gunicorn, redis-server and nginx, each on a
 * free loopback port, plus a raw HTTP/1.1 client that can choose its local address and send
 * malformed requests.
 *
 * <p>Why real processes: the gateway's promises (strict parsing, streaming, trusted proxies, what
 * the upstream actually received) are only meaningful against real servers on real sockets. Every
 * process is started by {@link dev.sluice.testkit.ManagedProcess}, which logs its output under the
 * build directory, waits until it is ready (or fails with the log tail), and stops it by PID, also
 * from a JVM shutdown hook so nothing outlives the test run.
 *
 * <p>A missing binary is a failure that names the Debian package to install, never a skipped test:
 * {@code ./scripts/test.sh} installs them.
 */
package dev.sluice.testkit;
