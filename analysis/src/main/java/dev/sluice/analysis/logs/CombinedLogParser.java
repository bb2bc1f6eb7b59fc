package dev.sluice.analysis.logs;

import dev.sluice.match.EncodedSlashes;
import java.util.Locale;
import java.util.Map;

/**
 * nginx/Apache "combined" (and "common") log lines:
 *
 * <pre>
 * $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
 * </pre>
 *
 * The client is {@code $remote_addr} (log the real client there, e.g. with nginx's realip module,
 * when a proxy sits in front); the query string of {@code $request} is kept, so an API key sent as a
 * query parameter ({@code clients.api_key.query}) identifies the request as it did live; {@code
 * $remote_user}, when not {@code -}, is the request's {@code user} identity. Anything after the
 * status is ignored.
 */
public final class CombinedLogParser implements LineParser {
  private final Timestamps times = new Timestamps();
  private final EncodedSlashes slashes;

  /** @param slashes what {@code %2F} means, the policy file's {@code gateway.encoded_slashes} */
  public CombinedLogParser(EncodedSlashes slashes) {
    this.slashes = slashes;
  }

  @Override
  public LogLine parse(long lineNumber, String text) throws MalformedLineException {
    if (text.isBlank()) {
      return null;
    }
    int sp1 = text.indexOf(' ');
    int sp2 = sp1 < 0 ? -1 : text.indexOf(' ', sp1 + 1);
    int open = sp2 < 0 ? -1 : text.indexOf('[', sp2);
    int close = open < 0 ? -1 : text.indexOf(']', open);
    if (sp1 <= 0 || sp2 < 0 || open < 0 || close < 0 || open < sp2 + 1) {
      throw new MalformedLineException("not a combined log line (expected: addr - user [time] \"request\" status …)");
    }
    String clientIp = text.substring(0, sp1);
    String user = text.substring(sp2 + 1, open).strip();
    long nanos = times.common(text.substring(open + 1, close));
    int q1 = text.indexOf('"', close);
    int q2 = q1 < 0 ? -1 : closingQuote(text, q1 + 1);
    if (q1 < 0 || q2 < 0) {
      throw new MalformedLineException("the request \"METHOD target HTTP/x\" is missing");
    }
    String request = text.substring(q1 + 1, q2);
    int m = request.indexOf(' ');
    if (m <= 0) {
      throw new MalformedLineException("request " + SluiceLogParser.quote(request) + " is not \"METHOD target HTTP/x\"");
    }
    String method = request.substring(0, m).toUpperCase(Locale.ROOT);
    int t = request.indexOf(' ', m + 1);
    String target = t < 0 ? request.substring(m + 1) : request.substring(m + 1, t);
    int s = q2 + 1;
    while (s < text.length() && text.charAt(s) == ' ') {
      s++;
    }
    int e = s;
    while (e < text.length() && Character.isDigit(text.charAt(e))) {
      e++;
    }
    if (e - s != 3) {
      throw new MalformedLineException("the status after the request is not a 3-digit number");
    }
    int status = Integer.parseInt(text, s, e, 10);
    Map<String, String> identities = user.isEmpty() || user.equals("-") ? Map.of() : Map.of("user", user);
    return new LogLine(lineNumber, nanos, method, Targets.path(target, slashes), Targets.query(target), clientIp,
        null, identities, status, -1, null);
  }

  /** The index of the quote closing a quoted field (nginx escapes a quote inside as {@code \x22}). */
  private static int closingQuote(String text, int from) {
    for (int i = from; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == '"') {
        return i;
      }
    }
    return -1;
  }
}
