package dev.sluice.match;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Normalises request targets to the path the upstream framework will route.
 *
 * <p>Design: how an encoded slash ({@code %2F}) is read depends on the upstream ({@link
 * EncodedSlashes}). With {@link EncodedSlashes#DECODE} (the default, what WSGI servers do) every
 * escape is decoded first and the decoded path is then split on {@code /}, so {@code /auth%2Flogin}
 * is {@code /auth/login}; with {@link EncodedSlashes#KEEP} the target is split on its
 * <em>literal</em> {@code /} first and each segment decoded on its own, so {@code %2F} stays inside
 * its segment; {@link EncodedSlashes#REJECT} refuses a path holding {@code %2F} and otherwise reads
 * it like {@code KEEP} (there is no {@code %2F} left to read). Decoding is applied once: {@code
 * %252F} is the three characters {@code %2F}, never a slash, as for the upstream.
 *
 * <p>The output must be unambiguous and a fixed point of {@link #normalize} (normalising it again
 * gives the same text), so the few decoded characters that would otherwise change meaning on a second
 * pass are written back percent-encoded: {@code %} as {@code %25}, {@code /} (only with {@code KEEP})
 * as {@code %2F}, {@code ?} as {@code %3F} and {@code #} as {@code %23}. Everything else is decoded
 * (UTF-8, strictly).
 *
 * <p>Dot-segments are removed as in RFC 3986 §5.2.4, after decoding (so {@code %2E%2E} is a
 * dot-segment too, otherwise it would be a way around path policies), except that {@code ..} above
 * the root is an error instead of being silently dropped. Repeated slashes are collapsed; a trailing
 * slash is kept. WSGI servers leave dot-segments and doubled slashes to the app (Werkzeug redirects
 * {@code //a} to {@code /a}, and answers {@code /x/../a} with 404), so removing them can only make a
 * policy match more requests than the app routes to its route, never fewer. Control characters
 * (U+0000–U+001F, U+007F), raw or decoded, are rejected: no legitimate route contains them and they
 * are a classic way to confuse logs and parsers.
 *
 * <p>Raw (unencoded) non-ASCII characters are accepted as the characters they are: a JSON {@code
 * path} of the decision API may carry them. A gateway refuses raw bytes of 0x80 and above on the
 * wire before it gets here (their meaning depends on the upstream's charset).
 *
 * <p>Thread-safe (stateless).
 */
public final class PathNormalizer {
  private PathNormalizer() {}

  /**
   * Returns the normalised path of a request target with {@link EncodedSlashes#DECODE}, the
   * default of {@code gateway.encoded_slashes}. See {@link #normalize(String, EncodedSlashes)}.
   *
   * @throws MalformedTargetException when the target cannot be normalised
   */
  public static String normalize(String requestTarget) {
    return normalize(requestTarget, EncodedSlashes.DECODE);
  }

  /**
   * Returns the normalised path of a request target (query string removed).
   *
   * <ul>
   *   <li>origin-form {@code /a/b?q} → {@code /a/b};
   *   <li>absolute-form {@code http://host:8080/a?q} → {@code /a} (an empty path is {@code /});
   *   <li>asterisk-form {@code *} (for {@code OPTIONS *}) → {@code *}, which no path pattern matches.
   * </ul>
   *
   * @param encodedSlashes what {@code %2F} means (see {@link EncodedSlashes})
   * @throws MalformedTargetException when the target cannot be normalised (answered with 400): it is
   *     empty or does not start with {@code /}, has bad percent-encoding or invalid UTF-8, contains
   *     a control character, climbs above the root with {@code ..}, or (with {@link
   *     EncodedSlashes#REJECT}) contains an encoded slash
   */
  public static String normalize(String requestTarget, EncodedSlashes encodedSlashes) {
    Objects.requireNonNull(encodedSlashes, "encodedSlashes");
    if (requestTarget == null || requestTarget.isEmpty()) {
      throw new MalformedTargetException("malformed request target \"\": it is empty; expected a path starting with \"/\"");
    }
    if (requestTarget.equals("*")) {
      return "*";
    }
    int end = pathEnd(requestTarget);
    if (isNormalPath(requestTarget, end)) {
      // Nearly every real target: return it (or its path) as it is, with no segment list. It holds
      // no "%", so no mode reads it differently.
      return end == requestTarget.length() ? requestTarget : requestTarget.substring(0, end);
    }
    return normalizeSegments(requestTarget, encodedSlashes);
  }

  /** {@link #normalize} without the fast path: every target is taken apart segment by segment. */
  static String normalizeSegments(String requestTarget, EncodedSlashes encodedSlashes) {
    String path = stripQueryAndFragment(pathOfAbsoluteForm(requestTarget));
    if (!path.startsWith("/")) {
      throw new MalformedTargetException(
          "malformed request target " + quote(requestTarget) + ": expected a path starting with \"/\"");
    }
    if (encodedSlashes == EncodedSlashes.REJECT) {
      int slash = encodedSlash(path);
      if (slash >= 0) {
        throw new MalformedTargetException(
            "malformed request target " + quote(requestTarget) + ": the encoded slash \""
                + path.substring(slash, slash + 3) + "\" is refused (gateway.encoded_slashes: reject);"
                + " expected \"/\" as the separator");
      }
    }
    List<String> segments = new ArrayList<>();
    boolean trailingSlash = false;
    // DECODE: each literal segment is decoded, then the decoded text is split again on the slashes
    // the escapes produced; KEEP and REJECT: the literal segments are final.
    boolean splitDecoded = encodedSlashes == EncodedSlashes.DECODE;
    int start = 1;
    while (start <= path.length()) {
      int slash = path.indexOf('/', start);
      int end = slash < 0 ? path.length() : slash;
      String raw = path.substring(start, end);
      boolean last = slash < 0;
      if (raw.isEmpty()) {
        // Repeated slashes collapse; a final empty segment means the path ends with "/".
        trailingSlash = last ? true : trailingSlash;
      } else {
        String decoded = decodeSegment(requestTarget, raw);
        if (splitDecoded && decoded.indexOf('/') >= 0) {
          String[] parts = decoded.split("/", -1);
          for (int i = 0; i < parts.length; i++) {
            if (parts[i].isEmpty()) {
              trailingSlash = i == parts.length - 1 || trailingSlash;
            } else {
              trailingSlash = addSegment(requestTarget, segments, escape(parts[i], false));
            }
          }
        } else {
          trailingSlash = addSegment(requestTarget, segments, escape(decoded, !splitDecoded));
        }
      }
      start = end + 1;
    }
    if (segments.isEmpty()) {
      return "/";
    }
    StringBuilder out = new StringBuilder(path.length());
    for (String segment : segments) {
      out.append('/').append(segment);
    }
    if (trailingSlash) {
      out.append('/');
    }
    return out.toString();
  }

  /**
   * Applies one decoded, non-empty segment to the list: {@code .} is dropped, {@code ..} removes
   * the previous segment. Returns whether the path now ends with a slash (after a dot-segment).
   */
  private static boolean addSegment(String requestTarget, List<String> segments, String segment) {
    if (segment.equals(".")) {
      return true;
    }
    if (segment.equals("..")) {
      if (segments.isEmpty()) {
        throw new MalformedTargetException(
            "malformed request target " + quote(requestTarget) + ": \"..\" climbs above the root");
      }
      segments.remove(segments.size() - 1);
      return true;
    }
    segments.add(segment);
    return false;
  }

  /** Index of the first {@code %2F} or {@code %2f} in the path, or -1. */
  private static int encodedSlash(String path) {
    for (int i = path.indexOf('%'); i >= 0 && i + 2 < path.length(); i = path.indexOf('%', i + 1)) {
      if (path.charAt(i + 1) == '2' && (path.charAt(i + 2) == 'F' || path.charAt(i + 2) == 'f')) {
        return i;
      }
    }
    return -1;
  }

  /** Where the path of an origin-form target ends: at its query or fragment, else its length. */
  private static int pathEnd(String target) {
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c == '?' || c == '#') {
        return i;
      }
    }
    return target.length();
  }

  /**
   * Whether {@code target[0, end)} is already a normalised path: it starts with {@code /}, its
   * characters are plain printable ASCII without {@code %}, and it has no empty segment (except a
   * final one: the trailing slash) and no dot-segment. Such a path normalises to itself.
   */
  private static boolean isNormalPath(String target, int end) {
    if (end == 0 || target.charAt(0) != '/') {
      return false;
    }
    // Every pass reads target.charAt(i); the last segment is checked after the loop. With a last
    // pass that skipped the read, Java 17's C2 put a profile-based predicate before the loop that
    // failed on every request ("profile_predicate" traps): the gateway's request path was compiled
    // again in a cold gateway's first seconds (docs/benchmarks.md, "Cold start").
    int segmentStart = 1;
    for (int i = 1; i < end; i++) {
      char c = target.charAt(i);
      if (c == '/') {
        if (i == segmentStart || isDotSegment(target, segmentStart, i)) {
          return false; // an empty segment, or a dot-segment
        }
        segmentStart = i + 1;
      } else if (c < 0x20 || c > 0x7E || c == '%') {
        return false;
      }
    }
    return !isDotSegment(target, segmentStart, end); // the last one may be empty: a trailing slash
  }

  /** Whether {@code target[start, end)} is {@code .} or {@code ..}. */
  private static boolean isDotSegment(String target, int start, int end) {
    int length = end - start;
    return (length == 1 && target.charAt(start) == '.')
        || (length == 2 && target.charAt(start) == '.' && target.charAt(start + 1) == '.');
  }

  /** For absolute-form ({@code scheme://authority/path}) returns the part from the path on. */
  private static String pathOfAbsoluteForm(String target) {
    if (target.startsWith("/")) {
      return target;
    }
    int colon = target.indexOf("://");
    if (colon <= 0 || !isScheme(target, colon)) {
      return target;
    }
    int authorityStart = colon + 3;
    int pathStart = target.length();
    for (int i = authorityStart; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c == '/' || c == '?' || c == '#') {
        pathStart = i;
        break;
      }
    }
    if (pathStart == authorityStart) {
      throw new MalformedTargetException(
          "malformed request target " + quote(target) + ": absolute-form target without a host");
    }
    String rest = target.substring(pathStart);
    return rest.startsWith("/") ? rest : "/" + rest;
  }

  private static boolean isScheme(String target, int end) {
    if (!isAsciiLetter(target.charAt(0))) {
      return false;
    }
    for (int i = 1; i < end; i++) {
      char c = target.charAt(i);
      if (!isAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') {
        return false;
      }
    }
    return true;
  }

  private static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  private static String stripQueryAndFragment(String target) {
    int end = target.length();
    int query = target.indexOf('?');
    if (query >= 0) {
      end = query;
    }
    int fragment = target.indexOf('#');
    if (fragment >= 0 && fragment < end) {
      end = fragment;
    }
    return target.substring(0, end);
  }

  /**
   * Percent-decodes one literal segment (which contains no literal {@code /}) as UTF-8, rejecting
   * control characters. The result may contain {@code /} (from {@code %2F}); see {@link #escape}.
   */
  private static String decodeSegment(String target, String raw) {
    if (isPlainAscii(raw)) {
      return raw; // the common case: nothing to decode, reject or escape, so no allocation
    }
    ByteBuffer bytes = ByteBuffer.allocate(raw.length() * 4);
    for (int i = 0; i < raw.length(); ) {
      char c = raw.charAt(i);
      if (c == '%') {
        int hi = i + 1 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
        int lo = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 2), 16) : -1;
        if (hi < 0 || lo < 0 || !isAsciiHex(raw.charAt(i + 1)) || !isAsciiHex(raw.charAt(i + 2))) {
          throw new MalformedTargetException(
              "malformed request target " + quote(target) + ": bad percent-encoding \""
                  + raw.substring(i, Math.min(i + 3, raw.length()))
                  + "\"; expected \"%\" followed by two hex digits");
        }
        bytes.put((byte) (hi * 16 + lo));
        i += 3;
      } else {
        int cp = raw.codePointAt(i);
        if (Character.isSurrogate((char) cp) && cp <= 0xFFFF) {
          throw new MalformedTargetException(
              "malformed request target " + quote(target) + ": contains an unpaired surrogate character");
        }
        bytes.put(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
        i += Character.charCount(cp);
      }
    }
    bytes.flip();
    String decoded;
    try {
      decoded = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(bytes)
          .toString();
    } catch (CharacterCodingException e) {
      throw new MalformedTargetException(
          "malformed request target " + quote(target) + ": percent-encoded bytes in \"" + raw
              + "\" are not valid UTF-8");
    }
    for (int i = 0; i < decoded.length(); i++) {
      char c = decoded.charAt(i);
      if (c < 0x20 || c == 0x7F) {
        throw new MalformedTargetException(
            "malformed request target " + quote(target) + ": contains control character U+"
                + String.format("%04X", (int) c));
      }
    }
    return decoded;
  }

  /**
   * Writes back percent-encoded the decoded characters that would change meaning when the output
   * is normalised again: {@code %}, {@code ?}, {@code #}, and {@code /} when {@code slash} (a
   * {@code KEEP} segment; in {@code DECODE} a segment never holds one).
   */
  private static String escape(String decoded, boolean slash) {
    StringBuilder out = null;
    for (int i = 0; i < decoded.length(); i++) {
      char c = decoded.charAt(i);
      String escape = switch (c) {
        case '%' -> "%25";
        case '/' -> slash ? "%2F" : null;
        case '?' -> "%3F";
        case '#' -> "%23";
        default -> null;
      };
      if (escape != null && out == null) {
        out = new StringBuilder(decoded.length() + 8).append(decoded, 0, i);
      }
      if (out != null) {
        if (escape != null) {
          out.append(escape);
        } else {
          out.append(c);
        }
      }
    }
    return out == null ? decoded : out.toString();
  }

  /**
   * Whether the segment is printable ASCII without {@code %}, {@code ?} or {@code #}: then decoding
   * and escaping both leave it unchanged and the slow path below would return an equal string.
   */
  private static boolean isPlainAscii(String raw) {
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c < 0x20 || c > 0x7E || c == '%' || c == '?' || c == '#') {
        return false;
      }
    }
    return true;
  }

  private static boolean isAsciiHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** Quotes a client-supplied value for an error message, bounded and with controls escaped. */
  static String quote(String value) {
    String shown = value.length() > 200 ? value.substring(0, 200) + "…" : value;
    StringBuilder out = new StringBuilder(shown.length() + 2).append('"');
    for (int i = 0; i < shown.length(); i++) {
      char c = shown.charAt(i);
      if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }
}
