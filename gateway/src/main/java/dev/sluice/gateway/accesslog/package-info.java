/**
 * The access log ({@code access_log:}, SPEC §10): one JSON line per decided request, written
 * after the response is known, asynchronously and bounded, the input of {@code sluice replay} and
 * {@code sluice tune}.
 */
package dev.sluice.gateway.accesslog;
