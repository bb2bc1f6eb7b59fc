/**
 * End-to-end tests over real sockets: the real gateway (started in-process from a YAML string)
 * in front of the example Flask API under gunicorn, with nginx in front where proxies matter, and
 * the CLI run as a real {@code java -jar} process.
 *
 * <p>What each test proves is observable from outside only: status codes, headers and bodies a
 * client receives, what the upstream's own counters say reached it, and {@code /metrics}.
 */
package dev.sluice.it;
