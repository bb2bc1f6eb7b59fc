package dev.sluice.identity;

import dev.sluice.request.HttpToken;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One entry of a {@code by:} chain: a kind, plus the header name for {@code header:<Name>}, the
 * field name for {@code body:<field>}, or the parts of a composite such as {@code ip+body:username}.
 *
 * <p>A composite is one spec of kind {@link IdentityKind#COMPOSITE} whose {@link #parts()} are
 * plain specs, so everything that keys on a spec (the engine's resolve-once table, equality,
 * {@link Identity#key()}) treats it like any other identity.
 *
 * @param kind the identity kind
 * @param parameter the header name for {@link IdentityKind#HEADER}, the field name for {@link
 *     IdentityKind#BODY}, else {@code null}
 * @param parts for {@link IdentityKind#COMPOSITE} its parts in order (two or more, none composite
 *     or {@code global}, no duplicates); empty for every other kind
 */
public record IdentitySpec(IdentityKind kind, String parameter, List<IdentitySpec> parts) {

  /** Every valid spelling, for error messages. */
  static final String EXPECTED = "ip, api_key, user, session, header:<Name>, global, body:<field>,"
      + " or several joined with + (e.g. ip+body:username)";

  /** The longest {@code body:} field name accepted. */
  static final int MAX_FIELD_NAME = 128;

  /**
   * Validates the combination.
   *
   * @throws IllegalArgumentException when {@code header} has no valid header name, {@code body} no
   *     valid field name, a composite has invalid parts, or another kind has a parameter or parts
   */
  public IdentitySpec {
    Objects.requireNonNull(kind, "kind");
    parts = parts == null ? List.of() : List.copyOf(parts);
    if (kind == IdentityKind.COMPOSITE) {
      checkParts(parameter, parts);
    } else {
      if (!parts.isEmpty()) {
        throw new IllegalArgumentException("invalid identity \"" + kind.configName()
            + "\": only a composite identity (parts joined with +) has parts");
      }
      checkParameter(kind, parameter);
    }
  }

  /**
   * A plain (non-composite) spec.
   *
   * @throws IllegalArgumentException as the canonical constructor; always for {@link
   *     IdentityKind#COMPOSITE} (use {@link #composite(List)})
   */
  public IdentitySpec(IdentityKind kind, String parameter) {
    this(kind, parameter, List.of());
  }

  /**
   * A composite of these parts, e.g. {@code [ip, body:username]}: present only when every part is.
   *
   * @throws IllegalArgumentException when there are fewer than two parts, a part is composite or
   *     {@code global}, or a part is listed twice
   */
  public static IdentitySpec composite(List<IdentitySpec> parts) {
    return new IdentitySpec(IdentityKind.COMPOSITE, null, Objects.requireNonNull(parts, "parts"));
  }

  private static void checkParameter(IdentityKind kind, String parameter) {
    if (kind == IdentityKind.HEADER) {
      if (parameter == null || parameter.isEmpty() || !HttpToken.isToken(parameter) || parameter.indexOf('+') >= 0) {
        String problem;
        if (parameter == null || parameter.isEmpty()) {
          problem = "the header name is missing";
        } else if (HttpToken.isToken(parameter)) {
          problem = "'+' joins the parts of a composite identity and cannot be part of a header name";
        } else {
          problem = "\"" + parameter + "\" is not a valid HTTP header name";
        }
        throw new IllegalArgumentException("invalid identity \"header:" + (parameter == null ? "" : parameter)
            + "\": " + problem
            + "; expected header:<Name> with a name of letters, digits and !#$%&'*-.^_`|~, e.g. header:X-Tenant");
      }
    } else if (kind == IdentityKind.BODY) {
      if (parameter == null || parameter.isEmpty() || !isFieldName(parameter)) {
        String problem = parameter == null || parameter.isEmpty()
            ? "the field name is missing"
            : parameter.length() > MAX_FIELD_NAME
                ? "the field name is longer than " + MAX_FIELD_NAME + " characters"
                : "\"" + parameter + "\" is not a supported field name";
        throw new IllegalArgumentException("invalid identity \"body:" + (parameter == null ? "" : parameter)
            + "\": " + problem + "; expected body:<field> naming a top-level JSON or form field with letters,"
            + " digits and _-[] (nested fields are not supported), e.g. body:username");
      }
    } else if (parameter != null) {
      throw new IllegalArgumentException("invalid identity \"" + kind.configName() + ":" + parameter
          + "\": \"" + kind.configName() + "\" takes no parameter; only header:<Name> and body:<field> do");
    }
  }

  private static void checkParts(String parameter, List<IdentitySpec> parts) {
    String text = parts.stream().map(String::valueOf).collect(Collectors.joining("+"));
    if (parameter != null) {
      throw new IllegalArgumentException("invalid identity \"" + text
          + "\": a composite identity takes no parameter, only parts");
    }
    if (parts.size() < 2) {
      throw new IllegalArgumentException("invalid identity \"" + text
          + "\": a composite identity needs at least two parts joined with +, e.g. ip+body:username");
    }
    for (int i = 0; i < parts.size(); i++) {
      IdentitySpec part = Objects.requireNonNull(parts.get(i), "parts[" + i + "]");
      if (part.kind() == IdentityKind.COMPOSITE) {
        throw new IllegalArgumentException("invalid identity \"" + text
            + "\": a part of a composite identity cannot itself be composite");
      }
      if (part.kind() == IdentityKind.GLOBAL) {
        throw new IllegalArgumentException("invalid identity \"" + text
            + "\": global cannot be part of a composite identity (it is the same for every request);"
            + " expected parts such as ip, api_key, user, session, header:<Name>, body:<field>");
      }
      for (int j = 0; j < i; j++) {
        if (parts.get(j).equals(part)) {
          throw new IllegalArgumentException("invalid identity \"" + text + "\": part \"" + part
              + "\" is listed twice; expected each part once");
        }
      }
    }
  }

  /**
   * Parses {@code ip}, {@code api_key}, {@code user}, {@code session}, {@code global},
   * {@code header:<Name>}, {@code body:<field>} (exact, lower-case kind names; the header and field
   * names keep their case), and composites of those joined with {@code +}
   * ({@code ip+body:username}).
   *
   * @throws IllegalArgumentException naming the text and listing the valid kinds when it is unknown,
   *     or naming the bad header name, field name or part
   */
  public static IdentitySpec parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("invalid identity \"\": it is empty; expected one of " + EXPECTED);
    }
    if (text.indexOf('+') < 0) {
      return parsePlain(text, text);
    }
    String[] pieces = text.split("\\+", -1);
    List<IdentitySpec> parts = new ArrayList<>(pieces.length);
    for (int i = 0; i < pieces.length; i++) {
      if (pieces[i].isEmpty()) {
        throw new IllegalArgumentException("invalid identity \"" + text + "\": part " + (i + 1)
            + " is empty; expected identities joined with +, e.g. ip+body:username");
      }
      parts.add(parsePlain(pieces[i], text));
    }
    return composite(parts);
  }

  private static IdentitySpec parsePlain(String text, String whole) {
    int colon = text.indexOf(':');
    String kindName = colon < 0 ? text : text.substring(0, colon);
    for (IdentityKind kind : IdentityKind.values()) {
      if (kind != IdentityKind.COMPOSITE && kind.configName().equals(kindName)) {
        return new IdentitySpec(kind, colon < 0 ? null : text.substring(colon + 1));
      }
    }
    String where = text.equals(whole) ? "" : " in \"" + whole + "\"";
    throw new IllegalArgumentException("unknown identity \"" + text + "\"" + where + "; expected one of " + EXPECTED);
  }

  /** Whether this identity (or one of its parts) is read from the request body. */
  public boolean readsBody() {
    if (kind == IdentityKind.COMPOSITE) {
      return parts.stream().anyMatch(IdentitySpec::readsBody);
    }
    return kind == IdentityKind.BODY;
  }

  /**
   * The spec as written in a policy file, e.g. {@code header:X-Tenant}, {@code body:username},
   * {@code ip+body:username}.
   */
  @Override
  public String toString() {
    if (kind == IdentityKind.COMPOSITE) {
      return parts.stream().map(IdentitySpec::toString).collect(Collectors.joining("+"));
    }
    return parameter == null ? kind.configName() : kind.configName() + ":" + parameter;
  }

  /**
   * A {@code body:} field name: ASCII letters, digits, {@code _}, {@code -}, and the brackets of
   * form names like {@code session[email]}. No dot, so nobody reads {@code user.name} as a path.
   */
  static boolean isFieldName(String s) {
    if (s == null || s.isEmpty() || s.length() > MAX_FIELD_NAME) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '_' || c == '-' || c == '[' || c == ']';
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
