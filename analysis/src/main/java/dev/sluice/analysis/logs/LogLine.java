package dev.sluice.analysis.logs;

import java.util.Map;

/**
 * One request read from an access log, in the engine's terms.
 *
 * @param lineNumber 1-based line number in the log
 * @param epochNanos when the request was decided (nanoseconds since the epoch)
 * @param method the request method, upper case
 * @param path the normalised path, without the query string
 * @param rawQuery the query string without {@code ?}, or {@code null}
 * @param clientIp the client address as written in the log (an IP literal)
 * @param apiKey a raw API key the log carries (JSON lines with {@code --field api_key=…}), else
 *     {@code null}; given to the engine as the configured API key header, so it is hashed and
 *     checked against {@code keys_file}, {@code exempt} and {@code block} exactly as live
 * @param identities identities the log carries already resolved ({@code by:} entry → value), e.g.
 *     Sluice's {@code identities} object or a mapped {@code user} field; never {@code null}
 * @param status the status the client got, or 0 when the log has none
 * @param upstreamNanos time on the upstream, or -1 when unknown or not forwarded
 * @param outcome the outcome the log recorded (Sluice's log only), else {@code null}
 */
public record LogLine(long lineNumber, long epochNanos, String method, String path, String rawQuery,
    String clientIp, String apiKey, Map<String, String> identities, int status, long upstreamNanos,
    String outcome) {}
