package dev.sluice.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The three readings of an encoded slash ({@code gateway.encoded_slashes}), one row per encoding of
 * a path: what each mode matches on. {@code decode} is what gunicorn + Werkzeug route (checked
 * against a real gunicorn in the integration tests); {@code REFUSED} marks a 400.
 */
class EncodedSlashesTest {
  private static final String REFUSED = "400";

  /** target | decode | keep | reject */
  static Stream<Arguments> encodings() {
    return Stream.of(
        row("/auth/login", "/auth/login", "/auth/login", "/auth/login"),
        row("/auth%2Flogin", "/auth/login", "/auth%2Flogin", REFUSED),
        row("/auth%2flogin", "/auth/login", "/auth%2Flogin", REFUSED),
        row("/%61uth/login", "/auth/login", "/auth/login", "/auth/login"),
        row("/auth/%6C%6F%67%69%6E", "/auth/login", "/auth/login", "/auth/login"),
        row("/%61%75%74%68%2F%6C%6F%67%69%6E", "/auth/login", "/auth%2Flogin", REFUSED),
        row("//auth//login", "/auth/login", "/auth/login", "/auth/login"),
        row("/auth%2F%2Flogin", "/auth/login", "/auth%2F%2Flogin", REFUSED),
        row("/auth/./login", "/auth/login", "/auth/login", "/auth/login"),
        row("/auth/%2e/login", "/auth/login", "/auth/login", "/auth/login"),
        row("/x/../auth/login", "/auth/login", "/auth/login", "/auth/login"),
        row("/x/%2e%2e/auth/login", "/auth/login", "/auth/login", "/auth/login"),
        row("/x%2F..%2Fauth/login", "/auth/login", "/x%2F..%2Fauth/login", REFUSED),
        row("/x/..%2Fauth%2Flogin", "/auth/login", "/x/..%2Fauth%2Flogin", REFUSED),
        row("/x%2F%2E%2E%2Fauth%2Flogin", "/auth/login", "/x%2F..%2Fauth%2Flogin", REFUSED),
        row("/auth%252Flogin", "/auth%252Flogin", "/auth%252Flogin", "/auth%252Flogin"),
        row("/auth%25252Flogin", "/auth%25252Flogin", "/auth%25252Flogin", "/auth%25252Flogin"),
        row("/auth\\login", "/auth\\login", "/auth\\login", "/auth\\login"),
        row("/auth%5Clogin", "/auth\\login", "/auth\\login", "/auth\\login"),
        row("/auth/login%2F", "/auth/login/", "/auth/login%2F", REFUSED),
        row("/auth%2Flogin?next=%2F", "/auth/login", "/auth%2Flogin", REFUSED),
        row("/auth/login?x=%2F", "/auth/login", "/auth/login", "/auth/login"),
        row("http://h/auth%2Flogin", "/auth/login", "/auth%2Flogin", REFUSED),
        row("/api%2Fx", "/api/x", "/api%2Fx", REFUSED),
        row("/auth/login%3Fx", "/auth/login%3Fx", "/auth/login%3Fx", "/auth/login%3Fx"),
        row("/%2F%2Fauth/login", "/auth/login", "/%2F%2Fauth/login", REFUSED),
        row("/a/%2F/b", "/a/b", "/a/%2F/b", REFUSED));
  }

  private static Arguments row(String target, String decode, String keep, String reject) {
    return Arguments.of(target, decode, keep, reject);
  }

  @ParameterizedTest(name = "{0}: decode {1}, keep {2}, reject {3}")
  @MethodSource("encodings")
  void normalize_eachMode_matchesOnItsReadingOfTheSlash(String target, String decode, String keep, String reject) {
    assertThat(PathNormalizer.normalize(target, EncodedSlashes.DECODE)).isEqualTo(decode);
    assertThat(PathNormalizer.normalize(target)).as("the default is decode").isEqualTo(decode);
    assertThat(PathNormalizer.normalize(target, EncodedSlashes.KEEP)).isEqualTo(keep);
    if (reject.equals(REFUSED)) {
      assertThatThrownBy(() -> PathNormalizer.normalize(target, EncodedSlashes.REJECT))
          .isInstanceOf(MalformedTargetException.class)
          .hasMessageContaining("is refused (gateway.encoded_slashes: reject)");
    } else {
      assertThat(PathNormalizer.normalize(target, EncodedSlashes.REJECT)).isEqualTo(reject);
    }
    for (EncodedSlashes mode : EncodedSlashes.values()) {
      String once = mode == EncodedSlashes.DECODE ? decode : mode == EncodedSlashes.KEEP ? keep : reject;
      if (!once.equals(REFUSED)) {
        assertThat(PathNormalizer.normalize(once, mode)).as("fixed point under %s", mode).isEqualTo(once);
      }
    }
  }

  @Test
  void normalize_reject_namesTheEscapeAndTheSetting() {
    assertThatThrownBy(() -> PathNormalizer.normalize("/auth%2flogin", EncodedSlashes.REJECT))
        .hasMessage("malformed request target \"/auth%2flogin\": the encoded slash \"%2f\" is refused"
            + " (gateway.encoded_slashes: reject); expected \"/\" as the separator");
  }

  @Test
  void normalize_decodedDotSegmentAboveRoot_isMalformed() {
    assertThatThrownBy(() -> PathNormalizer.normalize("/a%2F..%2F..%2Fetc", EncodedSlashes.DECODE))
        .isInstanceOf(MalformedTargetException.class)
        .hasMessage("malformed request target \"/a%2F..%2F..%2Fetc\": \"..\" climbs above the root");
  }

  @Test
  void pathPattern_withEncodedSlash_isKeptForKeepMode() {
    PathPattern pattern = PathPattern.compile("/files/a%2Fb");

    assertThat(pattern.hasEncodedSlash()).isTrue();
    assertThat(pattern.matches(PathNormalizer.normalize("/files/a%2fb", EncodedSlashes.KEEP))).isTrue();
    assertThat(pattern.matches(PathNormalizer.normalize("/files/a%2fb", EncodedSlashes.DECODE))).isFalse();
    assertThat(PathPattern.compile("/files/a/b").hasEncodedSlash()).isFalse();
  }

  @Test
  void configNames_areThoseOfThePolicyFile() {
    assertThat(Stream.of(EncodedSlashes.values()).map(EncodedSlashes::configName).toList())
        .isEqualTo(List.of("decode", "reject", "keep"));
  }
}
