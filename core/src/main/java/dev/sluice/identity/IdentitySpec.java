package dev.sluice.identity;

import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One entry of a {@code by:} chain: a kind, plus the header name for {@code header:<Name>}.
 *
 * @param kind the identity kind
 * @param parameter the header name for {@link IdentityKind#HEADER}, else {@code null}
 */
public record IdentitySpec(IdentityKind kind, String parameter) {

  /** Every valid spelling, for error messages. */
  static final String EXPECTED = Arrays.stream(IdentityKind.values())
      .map(k -> k == IdentityKind.HEADER ? "header:<Name>" : k.configName())
      .collect(Collectors.joining(", "));

  /**
   * Validates the combination.
   *
   * @throws IllegalArgumentException when {@code header} has no valid header name, or another kind
   *     has a parameter
   */
  public IdentitySpec {
    Objects.requireNonNull(kind, "kind");
    if (kind == IdentityKind.HEADER) {
      if (parameter == null || parameter.isEmpty() || !isHeaderName(parameter)) {
        throw new IllegalArgumentException("invalid identity \"header:" + (parameter == null ? "" : parameter)
            + "\": " + (parameter == null || parameter.isEmpty() ? "the header name is missing"
                : "\"" + parameter + "\" is not a valid HTTP header name")
            + "; expected header:<Name> with a name of letters, digits and !#$%&'*+-.^_`|~, e.g. header:X-Tenant");
      }
    } else if (parameter != null) {
      throw new IllegalArgumentException("invalid identity \"" + kind.configName() + ":" + parameter
          + "\": \"" + kind.configName() + "\" takes no parameter; only header:<Name> does");
    }
  }

  /**
   * Parses {@code ip}, {@code api_key}, {@code user}, {@code session}, {@code global},
   * {@code header:<Name>} (exact, lower-case kind names; the header name keeps its case).
   *
   * @throws IllegalArgumentException naming the text and listing the valid kinds when it is unknown,
   *     or naming the bad header name for {@code header:}
   */
  public static IdentitySpec parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("invalid identity \"\": it is empty; expected one of " + EXPECTED);
    }
    int colon = text.indexOf(':');
    String kindName = colon < 0 ? text : text.substring(0, colon);
    for (IdentityKind kind : IdentityKind.values()) {
      if (kind.configName().equals(kindName)) {
        return new IdentitySpec(kind, colon < 0 ? null : text.substring(colon + 1));
      }
    }
    throw new IllegalArgumentException("unknown identity \"" + text + "\"; expected one of " + EXPECTED);
  }

  /** The spec as written in a policy file, e.g. {@code header:X-Tenant}. */
  @Override
  public String toString() {
    return parameter == null ? kind.configName() : kind.configName() + ":" + parameter;
  }

  /** RFC 9110 token: the characters allowed in a header field name. */
  static boolean isHeaderName(String s) {
    if (s == null || s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
