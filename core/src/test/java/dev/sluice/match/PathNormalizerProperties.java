package dev.sluice.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

class PathNormalizerProperties {

  /** Strings made mostly of the characters that matter to the normaliser, so the edge cases get hit. */
  @Provide
  Arbitrary<String> targets() {
    Arbitrary<String> pieces = Arbitraries.oneOf(
        Arbitraries.of("/", "//", ".", "..", "%", "%2F", "%2f", "%25", "%252F", "%2E", "%2e", "%3F", "%23", "?",
            "#", "%C3%A9", "%C3", "%FF", "%00", "%5C", "\\", ";", "a", "b", "é", "\uD83D\uDE00", "\uD800", "*",
            "http://h", ":", " "),
        Arbitraries.strings().ofMaxLength(3));
    return pieces.list().ofMaxSize(12).map(list -> String.join("", list));
  }

  @Provide
  Arbitrary<EncodedSlashes> modes() {
    return Arbitraries.of(EncodedSlashes.class);
  }

  @Property(tries = 3000)
  void normalize_anyTarget_givesPathOrMalformed(@ForAll("targets") String target, @ForAll("modes") EncodedSlashes mode) {
    String path;
    try {
      path = PathNormalizer.normalize(target, mode);
    } catch (MalformedTargetException expected) {
      return;
    }
    assertThat(path).satisfiesAnyOf(p -> assertThat(p).startsWith("/"), p -> assertThat(p).isEqualTo("*"));
    assertThat(path).doesNotContain("//").doesNotContain("?").doesNotContain("#");
    if (mode != EncodedSlashes.KEEP) {
      assertThat(path).as("only keep leaves an encoded slash").doesNotContainIgnoringCase("%2F");
    }
  }

  @Property(tries = 1000)
  void normalize_arbitraryString_givesPathOrMalformed(@ForAll String target, @ForAll("modes") EncodedSlashes mode) {
    try {
      PathNormalizer.normalize(target, mode);
    } catch (MalformedTargetException expected) {
      // the only exception allowed
    }
  }

  @Property(tries = 3000)
  void normalize_output_isFixedPoint(@ForAll("targets") String target, @ForAll("modes") EncodedSlashes mode) {
    String once;
    try {
      once = PathNormalizer.normalize(target, mode);
    } catch (MalformedTargetException expected) {
      return;
    }
    assertThat(PathNormalizer.normalize(once, mode)).isEqualTo(once);
  }

  /** The fast path for already-normal paths must never change an answer, nor an error. */
  @Property(tries = 3000)
  void normalize_fastPath_agreesWithSegmentBySegment(@ForAll("targets") String target, @ForAll("modes") EncodedSlashes mode) {
    Assume.that(!target.isEmpty() && !target.equals("*")); // answered before either path
    String fast;
    try {
      fast = PathNormalizer.normalize(target, mode);
    } catch (MalformedTargetException e) {
      assertThatThrownBy(() -> PathNormalizer.normalizeSegments(target, mode))
          .isInstanceOf(MalformedTargetException.class).hasMessage(e.getMessage());
      return;
    }
    assertThat(fast).isEqualTo(PathNormalizer.normalizeSegments(target, mode));
  }

  /**
   * With {@code decode}, the normalised path is what a WSGI server routes: the whole path
   * percent-decoded at once (gunicorn's {@code PATH_INFO}), read as UTF-8, then split on {@code /}
   * with the SPEC's dot-segment and slash rules. The model below is written independently of
   * {@link PathNormalizer} (one decode of the whole path, not segment by segment).
   */
  @Property(tries = 5000)
  void normalize_decode_isWhatWsgiRoutes(@ForAll("targets") String tail) {
    String target = "/" + tail;
    String expected = WsgiModel.route(target);
    if (expected == null) {
      assertThatThrownBy(() -> PathNormalizer.normalize(target, EncodedSlashes.DECODE))
          .as("the model refuses %s", target)
          .isInstanceOf(MalformedTargetException.class);
    } else {
      assertThat(PathNormalizer.normalize(target, EncodedSlashes.DECODE)).as(target).isEqualTo(expected);
    }
  }

  /**
   * Any spelling of a plain path that a WSGI server routes to it — escaped letters in either hex
   * case, {@code %2F} for a separator, doubled slashes, {@code ./}, {@code x/../} detours (plain or
   * escaped) — normalises to that plain path with {@code decode}: no encoding reaches a route
   * outside its policies. {@code keep} agrees whenever no separator was escaped; {@code reject}
   * agrees, or refuses exactly the spellings holding {@code %2F}.
   */
  @Property(tries = 3000)
  void normalize_anySpellingOfAPath_matchesThePlainPath(
      @ForAll("plainPaths") String plain, @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long seed) {
    Random random = new Random(seed);
    String spelled = Spelling.of(plain, random);

    assertThat(PathNormalizer.normalize(spelled, EncodedSlashes.DECODE)).as(spelled).isEqualTo(plain);
    int query = spelled.indexOf('?');
    String spelledPath = query < 0 ? spelled : spelled.substring(0, query);
    boolean escapedSlash = spelledPath.toUpperCase(Locale.ROOT).contains("%2F");
    if (!escapedSlash) {
      assertThat(PathNormalizer.normalize(spelled, EncodedSlashes.KEEP)).as(spelled).isEqualTo(plain);
      assertThat(PathNormalizer.normalize(spelled, EncodedSlashes.REJECT)).as(spelled).isEqualTo(plain);
    } else {
      assertThatThrownBy(() -> PathNormalizer.normalize(spelled, EncodedSlashes.REJECT))
          .isInstanceOf(MalformedTargetException.class).hasMessageContaining("gateway.encoded_slashes: reject");
    }
  }

  /** Normalised paths of 1–5 segments of route-like characters (no dot-segments, no trailing slash). */
  @Provide
  Arbitrary<String> plainPaths() {
    Arbitrary<String> segment = Arbitraries.strings()
        .withChars("abcxyzAZ019-_~.:@!$&'()*+,;=é")
        .ofMinLength(1).ofMaxLength(6)
        .filter(s -> !s.equals(".") && !s.equals(".."));
    return segment.list().ofMinSize(1).ofMaxSize(5).map(list -> "/" + String.join("/", list));
  }

  /** Ways a client can spell a path so that a WSGI server still routes the plain path. */
  static final class Spelling {
    private Spelling() {}

    static String of(String plain, Random random) {
      String[] segments = plain.substring(1).split("/");
      StringBuilder out = new StringBuilder();
      for (String segment : segments) {
        separator(out, random);
        if (random.nextInt(5) == 0) {
          // a detour that dot-segment removal takes back
          out.append(random.nextBoolean() ? "." : random.nextBoolean() ? "%2e" : "%2E");
          separator(out, random);
          if (random.nextBoolean()) {
            out.append("zz");
            separator(out, random);
            out.append(random.nextBoolean() ? ".." : random.nextBoolean() ? "%2e%2e" : ".%2E");
            separator(out, random);
          }
        }
        for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
          int c = b & 0xFF;
          if (c >= 0x80 || random.nextInt(3) == 0) {
            String hex = String.format("%%%02X", c);
            out.append(random.nextBoolean() ? hex : hex.toLowerCase(Locale.ROOT));
          } else {
            out.append((char) c);
          }
        }
      }
      if (random.nextInt(4) == 0) {
        out.append("?q=%2F..%2F&x=").append(random.nextInt(100));
      }
      return out.toString();
    }

    private static void separator(StringBuilder out, Random random) {
      int copies = random.nextInt(4) == 0 ? 2 : 1;
      for (int i = 0; i < copies; i++) {
        switch (random.nextInt(4)) {
          case 0 -> out.append("%2F");
          case 1 -> out.append("%2f");
          default -> out.append('/');
        }
      }
      if (out.charAt(0) != '/') {
        out.insert(0, '/'); // a request target starts with a literal slash
      }
    }
  }

  /** An independent model of "decode the whole path, then route on it" (see the property above). */
  static final class WsgiModel {
    private WsgiModel() {}

    /** The routed path, or {@code null} when the target cannot be routed (then 400). */
    static String route(String target) {
      int end = target.length();
      for (int i = 0; i < target.length(); i++) {
        if (target.charAt(i) == '?' || target.charAt(i) == '#') {
          end = i;
          break;
        }
      }
      String path = target.substring(0, end);
      byte[] raw;
      try {
        ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT) // an unpaired surrogate
            .encode(CharBuffer.wrap(path));
        raw = new byte[encoded.remaining()];
        encoded.get(raw);
      } catch (CharacterCodingException e) {
        return null;
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (int i = 0; i < raw.length; i++) {
        if (raw[i] == '%') {
          if (i + 2 >= raw.length || hex(raw[i + 1]) < 0 || hex(raw[i + 2]) < 0) {
            return null;
          }
          bytes.write(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
          i += 2;
        } else {
          bytes.write(raw[i]);
        }
      }
      String decoded;
      try {
        decoded = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
      } catch (CharacterCodingException e) {
        return null;
      }
      if (decoded.chars().anyMatch(c -> c < 0x20 || c == 0x7F)) {
        return null;
      }
      List<String> out = new ArrayList<>();
      String[] parts = decoded.split("/", -1);
      boolean trailing = false;
      for (int i = 1; i < parts.length; i++) {
        String part = parts[i];
        if (part.isEmpty()) {
          trailing = i == parts.length - 1 || trailing;
        } else if (part.equals(".")) {
          trailing = true;
        } else if (part.equals("..")) {
          if (out.isEmpty()) {
            return null;
          }
          out.remove(out.size() - 1);
          trailing = true;
        } else {
          out.add(part.replace("%", "%25").replace("?", "%3F").replace("#", "%23"));
          trailing = false;
        }
      }
      return out.isEmpty() ? "/" : "/" + String.join("/", out) + (trailing ? "/" : "");
    }

    private static int hex(byte b) {
      return (b >= '0' && b <= '9') ? b - '0' : (b >= 'a' && b <= 'f') ? b - 'a' + 10 : (b >= 'A' && b <= 'F') ? b - 'A' + 10 : -1;
    }
  }
}
