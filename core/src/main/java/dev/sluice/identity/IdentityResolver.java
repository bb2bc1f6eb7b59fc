package dev.sluice.identity;

import dev.sluice.request.HttpToken;
import dev.sluice.request.RequestView;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Derives a request's client address and identities ({@code clients:} in the policy file).
 *
 * <p>Design. <b>Client address</b>: a forwarding header is believed only as far as the chain of
 * trusted proxies reaches. If the TCP peer is not in {@code trusted_proxies} it is the client and
 * forwarding headers are ignored (anyone can write them). Otherwise the header's addresses are
 * walked right to left (the right-most was written by the proxy we trust most), skipping trusted
 * ones; the first untrusted address is the client; if all are trusted, the left-most; an entry that
 * is malformed, {@code unknown} or obfuscated ends the walk at the last good address, because
 * nothing to its left can be attributed to a trusted hop.
 *
 * <p><b>Secrets and personal data</b> (API keys, session cookies, {@code header:} values, {@code
 * body:} fields such as a username) never leave this class raw
 * inside an {@link Identity}: the value is the first 16 hex digits of their SHA-256, so buckets,
 * metrics and audit logs never hold a credential. The same digest prefix appears at the start of a
 * {@code keys_file} sha256 entry, so operators can find which key an audit line is about.
 * <b>user</b> comes only from a JWT whose signature verified and that is within {@code exp}/{@code
 * nbf} (see {@link Jwt}).
 *
 * <p>Immutable and thread-safe.
 */
public final class IdentityResolver {
  private static final int HASH_HEX_DIGITS = 16;
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
  private static final String GLOBAL_VALUE = "*";
  private static final IdentitySpec IP_SPEC = new IdentitySpec(IdentityKind.IP, null);
  /** Slots of the address cache; a power of two. See {@link #known(InetAddress)}. */
  private static final int KNOWN_SLOTS = 1024;

  private final CidrSet trustedProxies;
  private final IpHeader ipHeader;
  private final int ipv6Prefix;
  private final String apiKeyHeader;
  private final String apiKeyQuery;
  private final Set<String> knownKeyDigests;
  private final String jwtHeader;
  private final String jwtClaim;
  private final Jwt jwt;
  private final String sessionCookie;
  private final Set<String> knownSessionDigests;
  private final InstantSource wallClock;
  private final boolean walksProxies;
  /** Recently seen addresses, each formatted once; see {@link #known(InetAddress)}. */
  private final Known[] known = new Known[KNOWN_SLOTS];
  /** Each slot's address hash, checked first: a miss then never reads the cold cached entry. */
  private final int[] knownHashes = new int[KNOWN_SLOTS];

  private IdentityResolver(Builder b) {
    this.trustedProxies = b.trustedProxies;
    this.ipHeader = b.ipHeader;
    this.ipv6Prefix = b.ipv6Prefix;
    this.apiKeyHeader = b.apiKeyHeader;
    this.apiKeyQuery = b.apiKeyQuery;
    this.knownKeyDigests = b.knownKeyDigests == null ? null : Set.copyOf(b.knownKeyDigests);
    this.jwtHeader = b.jwtHeader;
    this.jwtClaim = b.jwtClaim;
    this.jwt = b.jwtHeader == null ? null : new Jwt(b.hs256Secret, b.jwks);
    this.sessionCookie = b.sessionCookie;
    this.knownSessionDigests = b.knownSessionDigests == null ? null : Set.copyOf(b.knownSessionDigests);
    this.wallClock = b.wallClock;
    this.walksProxies = b.ipHeader != IpHeader.NONE && !b.trustedProxies.isEmpty();
  }

  /** A builder with the defaults of the policy file: trust no proxy, {@code x-forwarded-for}, /64. */
  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------- client address

  /**
   * The client address of the request (trusted-proxy walk, see the class comment) and the
   * {@code X-Forwarded-For} value to send upstream. Never throws for client-supplied input.
   */
  public ClientAddress clientAddress(RequestView request) {
    InetAddress peer = IpLiteral.normalise(Objects.requireNonNull(request.peerAddress(), "peerAddress"));
    Known peerKnown = known(peer);
    if (!walksProxies || !trustedProxies.contains(peer)) {
      return peerKnown.direct;
    }
    String peerText = peerKnown.direct.forwardedFor();
    List<InetAddress> chain = chain(request);
    InetAddress client = peer;
    int clientIndex = chain.size();
    for (int i = chain.size() - 1; i >= 0; i--) {
      InetAddress hop = chain.get(i);
      if (hop == null) {
        break; // malformed/unknown: stop at the last good address
      }
      client = hop;
      clientIndex = i;
      if (!trustedProxies.contains(hop)) {
        break;
      }
    }
    StringBuilder forwardedFor = new StringBuilder();
    for (int i = clientIndex; i < chain.size(); i++) {
      forwardedFor.append(IpLiteral.format(chain.get(i))).append(", ");
    }
    forwardedFor.append(peerText);
    return new ClientAddress(client, forwardedFor.toString());
  }

  /**
   * Whether {@code peer} is a trusted proxy whose forwarding header this resolver believes: it is
   * in {@code trusted_proxies} and a client-IP header is configured. The gateway forwards such a
   * peer's own client claims ({@code Forwarded}, {@code X-Real-IP}, {@code X-Forwarded-Proto}, …)
   * upstream and strips everyone else's.
   */
  public boolean isTrustedProxy(InetAddress peer) {
    return walksProxies && trustedProxies.contains(IpLiteral.normalise(Objects.requireNonNull(peer, "peer")));
  }

  /**
   * The identity value a secret or personal value gets ({@code api_key}, {@code session},
   * {@code header:}, {@code body:} identities): the first 16 hex digits of the SHA-256 of the value
   * without surrounding white space, exactly as a request carrying it is identified; {@code null}
   * when nothing is left. For operators naming an identity, e.g. a ban through the admin API.
   */
  public String secretValue(String raw) {
    return hashOrNull(Objects.requireNonNull(raw, "raw").strip());
  }

  // ---------------------------------------------------------------- where identities come from
  // Read by tools that build requests a deployment must identify (sluice verify), so they follow
  // the loaded file instead of re-reading it.

  /** The header the API key is read from ({@code api_key: {header: ...}}), if any. */
  public Optional<String> apiKeyHeader() {
    return Optional.ofNullable(apiKeyHeader);
  }

  /** The query parameter the API key is read from ({@code api_key: {query: ...}}), if any. */
  public Optional<String> apiKeyQuery() {
    return Optional.ofNullable(apiKeyQuery);
  }

  /** Whether only keys of a {@code keys_file} identify (an invented key is no identity). */
  public boolean knowsApiKeys() {
    return knownKeyDigests != null;
  }

  /** The header a {@code user} JWT is read from, if {@code user} is configured. */
  public Optional<String> jwtHeader() {
    return Optional.ofNullable(jwtHeader);
  }

  /** The claim whose value is the {@code user} identity, if {@code user} is configured. */
  public Optional<String> jwtClaim() {
    return Optional.ofNullable(jwtClaim);
  }

  /**
   * A copy of the HS256 secret {@code user} tokens are verified with, if one is configured: the
   * process already holds it from its environment; a verifying tool signs test tokens with it.
   */
  public Optional<byte[]> hs256Secret() {
    return jwt == null ? Optional.empty() : jwt.hs256Secret();
  }

  /** The cookie {@code session} identities are read from, if configured. */
  public Optional<String> sessionCookie() {
    return Optional.ofNullable(sessionCookie);
  }

  /** Whether only sessions of a {@code keys_file} identify. */
  public boolean knowsSessions() {
    return knownSessionDigests != null;
  }

  /** {@code trusted_proxies}. */
  public CidrSet trustedProxies() {
    return trustedProxies;
  }

  /** {@code ip_header}. */
  public IpHeader ipHeader() {
    return ipHeader;
  }

  /** The addresses of the configured header, left to right; {@code null} marks an unusable entry. */
  private List<InetAddress> chain(RequestView request) {
    List<String> lines = request.headers(ipHeader.headerName());
    List<InetAddress> chain = new ArrayList<>();
    switch (ipHeader) {
      case X_FORWARDED_FOR -> {
        for (String line : lines) {
          for (String entry : line.split(",", -1)) {
            chain.add(parseNode(entry.strip(), false));
          }
        }
      }
      case X_REAL_IP -> {
        if (lines.size() == 1) {
          chain.add(lines.get(0).indexOf(',') >= 0 ? null : parseNode(lines.get(0).strip(), false));
        } else if (lines.size() > 1) {
          chain.add(null); // several X-Real-IP lines: ambiguous, believe none
        }
      }
      case FORWARDED -> {
        for (String line : lines) {
          for (String element : splitOutsideQuotes(line, ',')) {
            chain.add(forwardedFor(element));
          }
        }
      }
      default -> throw new IllegalStateException("no header for " + ipHeader);
    }
    return chain;
  }

  /** The {@code for=} node of one RFC 7239 forwarded-element, or {@code null}. */
  private static InetAddress forwardedFor(String element) {
    InetAddress found = null;
    boolean seen = false;
    for (String pair : splitOutsideQuotes(element, ';')) {
      String p = pair.strip();
      int eq = p.indexOf('=');
      if (eq <= 0) {
        return null;
      }
      if (!p.substring(0, eq).strip().equalsIgnoreCase("for")) {
        continue;
      }
      if (seen) {
        return null; // two for= in one element: ambiguous
      }
      seen = true;
      String value = unquote(p.substring(eq + 1).strip());
      found = value == null ? null : parseNode(value, true);
    }
    return found;
  }

  /**
   * Parses one node: {@code 192.0.2.1}, {@code 192.0.2.1:80}, {@code [2001:db8::1]},
   * {@code [2001:db8::1]:80}, and (outside RFC 7239) a bare IPv6 literal. {@code unknown} and
   * obfuscated ids ({@code _hidden}) give {@code null}.
   */
  private static InetAddress parseNode(String node, boolean rfc7239) {
    if (node.isEmpty() || node.length() > 64) {
      return null;
    }
    if (node.charAt(0) == '[') {
      int close = node.indexOf(']');
      if (close < 0) {
        return null;
      }
      String rest = node.substring(close + 1);
      if (!rest.isEmpty() && !isPort(rest, rfc7239)) {
        return null;
      }
      String literal = node.substring(1, close);
      return literal.indexOf(':') >= 0 ? IpLiteral.parse(literal) : null;
    }
    int colon = node.indexOf(':');
    if (colon >= 0 && node.indexOf(':', colon + 1) < 0) {
      // IPv4 with a port; IPv6 has at least two colons and must be bracketed to carry one.
      return isPort(node.substring(colon), rfc7239) ? ipv4(node.substring(0, colon)) : null;
    }
    if (colon >= 0 && rfc7239) {
      return null; // RFC 7239 requires brackets around IPv6
    }
    return IpLiteral.parse(node);
  }

  private static InetAddress ipv4(String text) {
    return text.indexOf(':') < 0 ? IpLiteral.parse(text) : null;
  }

  /** {@code :1234}, or in RFC 7239 also an obfuscated port {@code :_abc}. */
  private static boolean isPort(String text, boolean rfc7239) {
    if (text.length() < 2 || text.charAt(0) != ':') {
      return false;
    }
    String port = text.substring(1);
    if (rfc7239 && port.charAt(0) == '_') {
      return port.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '-');
    }
    return port.length() <= 5 && port.chars().allMatch(c -> c >= '0' && c <= '9')
        && Integer.parseInt(port) <= 65535;
  }

  /** Splits on a separator that is not inside a quoted-string. */
  private static List<String> splitOutsideQuotes(String text, char separator) {
    List<String> parts = new ArrayList<>();
    boolean quoted = false;
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted && c == '\\') {
        i++;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && c == separator) {
        parts.add(text.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(text.substring(start));
    return parts;
  }

  /** The value of a token or quoted-string, or {@code null} when the quoting is broken. */
  private static String unquote(String value) {
    if (value.isEmpty() || value.charAt(0) != '"') {
      return value.indexOf('"') >= 0 ? null : value;
    }
    if (value.length() < 2 || value.charAt(value.length() - 1) != '"') {
      return null;
    }
    StringBuilder out = new StringBuilder(value.length());
    for (int i = 1; i < value.length() - 1; i++) {
      char c = value.charAt(i);
      if (c == '\\') {
        if (++i >= value.length() - 1) {
          return null;
        }
        c = value.charAt(i);
      } else if (c == '"') {
        return null;
      }
      out.append(c);
    }
    return out.toString();
  }

  /**
   * The text used as the value of {@code ip} identities: IPv4 as a dotted quad, IPv6 grouped by
   * {@code ipv6_prefix} as {@code network/prefix} (e.g. {@code 2001:db8:1:2::/64}), or the plain
   * address when the prefix is 128. IPv4-mapped IPv6 counts as IPv4.
   */
  public String ipValue(InetAddress address) {
    InetAddress a = IpLiteral.normalise(Objects.requireNonNull(address, "address"));
    if (a instanceof Inet4Address || ipv6Prefix == 128) {
      return IpLiteral.format(a);
    }
    return IpLiteral.formatV6(Cidr.mask(a.getAddress(), ipv6Prefix)) + "/" + ipv6Prefix;
  }

  // ---------------------------------------------------------------- identities

  /**
   * The identity of the request for one {@code by:} entry, or empty when the request does not have
   * it (no API key or an unknown one, no valid token, no cookie or an unknown session, no header,
   * no usable body field, a composite missing a part), so a fallback chain moves on. {@code ip} and
   * {@code global} are always present. Never throws for client input.
   *
   * <p>Values: {@code ip} the grouped address text ({@link #ipValue}); {@code global} {@code *};
   * {@code user} the verified claim; API keys, sessions, header values and body fields (the
   * username in {@code body:username} is personal data) the first 16 hex digits of their SHA-256;
   * a composite its parts' values joined with {@code +}, each with {@code %} and {@code +}
   * percent-escaped, so distinct part values never join to the same text.
   *
   * @param client the result of {@link #clientAddress(RequestView)} for this request
   */
  public Optional<Identity> identify(IdentitySpec spec, RequestView request, ClientAddress client) {
    return Optional.ofNullable(identifyOrNull(spec, request, client));
  }

  /**
   * {@link #identify} without the {@link Optional}, for the engine's hot path: the identity, or
   * {@code null} when the request does not have it. For {@code ip}, the same instance is returned
   * for the same client address while it stays in the resolver's small address cache.
   */
  public Identity identifyOrNull(IdentitySpec spec, RequestView request, ClientAddress client) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(client, "client");
    if (spec.kind() == IdentityKind.IP) {
      return ipIdentity(client);
    }
    java.util.Map<String, String> replayed = request.resolvedIdentities();
    String asResolved = replayed == null || spec.kind() == IdentityKind.GLOBAL ? null : replayed.get(spec.toString());
    if (asResolved != null) {
      return new Identity(spec, asResolved);
    }
    String value = switch (spec.kind()) {
      case IP -> ipValue(client.client());
      case GLOBAL -> GLOBAL_VALUE;
      case API_KEY -> rawApiKey(request).filter(this::isKnownKey).map(IdentityResolver::shortHash).orElse(null);
      case SESSION -> session(request);
      case HEADER -> hashOrNull(asserted(request, IdentityKind.HEADER, spec.parameter(),
          headerValue(request, spec.parameter())));
      case USER -> user(request);
      case BODY -> hashOrNull(BodyField.read(request, spec.parameter()));
      case COMPOSITE -> composite(spec, request, client);
    };
    return value == null ? null : new Identity(spec, value);
  }

  /** The {@code ip} identity of {@code client}: its {@link #ipValue} under the {@code ip} spec. */
  public Identity ipIdentity(ClientAddress client) {
    return known(client.client()).ip;
  }

  /**
   * What the resolver derives from an address alone, computed once per address while it stays
   * cached: the client address of a direct (unproxied) peer and the {@code ip} identity.
   *
   * <p>Why: formatting an address and building its identity key cost more than the rest of a
   * memory-store decision, and the clients that matter most (a flood, a busy partner) repeat.
   * The cache is direct-mapped and racy on purpose: entries are immutable (final fields, so a
   * reader sees them whole), a lost write only costs a recomputation, and there is no lock.
   */
  private Known known(InetAddress address) {
    int h = address.hashCode();
    int slot = (h ^ (h >>> 16)) & (KNOWN_SLOTS - 1);
    if (knownHashes[slot] == h) {
      Known k = known[slot];
      if (k != null && k.address.equals(address)) {
        return k;
      }
    }
    String text = IpLiteral.format(address);
    String ip = address instanceof Inet4Address || ipv6Prefix == 128 ? text : ipValue(address);
    Known k = new Known(address, new ClientAddress(address, text), new Identity(IP_SPEC, ip));
    // Two plain writes, not atomic together: a reader that sees one without the other only
    // misses (equals still decides), never gets another address's entry.
    known[slot] = k;
    knownHashes[slot] = h;
    return k;
  }

  /** One cached address; see {@link #known(InetAddress)}. */
  private record Known(InetAddress address, ClientAddress direct, Identity ip) {}

  private String session(RequestView request) {
    String value = request.assertedIdentity(IdentityKind.SESSION, null);
    if (value == null || value.isEmpty()) {
      if (sessionCookie == null) {
        return null;
      }
      value = cookie(request, sessionCookie);
    }
    if (value == null || (knownSessionDigests != null && !knownSessionDigests.contains(sha256Hex(value)))) {
      return null;
    }
    return shortHash(value);
  }

  private String composite(IdentitySpec spec, RequestView request, ClientAddress client) {
    StringBuilder joined = new StringBuilder();
    for (IdentitySpec part : spec.parts()) {
      Optional<Identity> identity = identify(part, request, client);
      if (identity.isEmpty()) {
        return null;
      }
      if (joined.length() > 0) {
        joined.append('+');
      }
      String value = identity.get().value();
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        switch (c) {
          case '%' -> joined.append("%25");
          case '+' -> joined.append("%2B");
          default -> joined.append(c);
        }
      }
    }
    return joined.toString();
  }

  /**
   * Whether this resolver is configured to ever produce identities of {@code spec}: {@code
   * api_key} needs a header or query parameter, {@code user} a JWT source, {@code session} a
   * cookie; a composite needs every part. {@code ip}, {@code global}, {@code header:} and {@code
   * body:} need no configuration (a {@code body:} identity also needs a gateway that buffers bodies,
   * which the resolver cannot know). Lets the config layer reject a {@code by} that could never
   * identify anyone.
   */
  public boolean supports(IdentitySpec spec) {
    return switch (Objects.requireNonNull(spec, "spec").kind()) {
      case IP, GLOBAL, HEADER, BODY -> true;
      case API_KEY -> apiKeyHeader != null || apiKeyQuery != null;
      case USER -> jwt != null;
      case SESSION -> sessionCookie != null;
      case COMPOSITE -> spec.parts().stream().allMatch(this::supports);
    };
  }

  /**
   * The raw API key of the request from the configured header or query parameter (percent-decoded,
   * {@code +} as space), whether or not it is a known key; empty when none is configured or sent.
   * For {@code exempt.api_keys} / {@code block.api_keys} checks only: never put it in an identity,
   * a log or a response.
   */
  public Optional<String> rawApiKey(RequestView request) {
    String key = request.assertedIdentity(IdentityKind.API_KEY, null);
    if (key != null && !key.isEmpty()) {
      key = key.strip();
      return key.isEmpty() ? Optional.empty() : Optional.of(key);
    }
    key = null;
    if (apiKeyHeader != null) {
      key = request.header(apiKeyHeader);
    } else if (apiKeyQuery != null) {
      key = queryParameter(request.rawQuery(), apiKeyQuery);
    }
    if (key == null) {
      return Optional.empty();
    }
    key = key.strip();
    return key.isEmpty() ? Optional.empty() : Optional.of(key);
  }

  /**
   * Known keys are kept as SHA-256 digests and a key is looked up by its digest. Hash-then-lookup
   * is what keeps this free of timing leaks: the timing of a set lookup depends only on the digest,
   * which a client cannot steer towards a stored one, never on how many characters of a real key
   * it guessed right.
   */
  private boolean isKnownKey(String key) {
    return knownKeyDigests == null || knownKeyDigests.contains(sha256Hex(key));
  }

  private String user(RequestView request) {
    String asserted = request.assertedIdentity(IdentityKind.USER, null);
    if (asserted != null && !asserted.isEmpty()) {
      // Authenticated by the application (decision API): taken as the JWT claim would be.
      return asserted.chars().anyMatch(c -> c < 0x20 || c == 0x7F) ? null : asserted;
    }
    if (jwt == null) {
      return null;
    }
    String token = request.header(jwtHeader);
    if (token == null) {
      return null;
    }
    token = token.strip();
    if (token.regionMatches(true, 0, "Bearer ", 0, 7)) {
      token = token.substring(7).strip();
    }
    Map<String, Object> claims = jwt.verify(token, wallClock.instant());
    if (claims == null) {
      return null;
    }
    Object claim = claims.get(jwtClaim);
    if (claim instanceof String s) {
      return s.isEmpty() || s.chars().anyMatch(c -> c < 0x20 || c == 0x7F) ? null : s;
    }
    if (claim instanceof BigDecimal n) {
      BigDecimal stripped = n.stripTrailingZeros();
      return stripped.scale() <= 0 && stripped.precision() - stripped.scale() <= 40
          ? stripped.toBigInteger().toString() : null;
    }
    return null;
  }

  /** The application's asserted value for {@code kind} when it gives a non-empty one, else {@code fallback}. */
  private static String asserted(RequestView request, IdentityKind kind, String parameter, String fallback) {
    String value = request.assertedIdentity(kind, parameter);
    return value == null || value.isEmpty() ? fallback : value;
  }

  private static String headerValue(RequestView request, String name) {
    List<String> lines = request.headers(name);
    if (lines.isEmpty()) {
      return null;
    }
    String joined = String.join(", ", lines).strip();
    return joined.isEmpty() ? null : joined;
  }

  /** The first cookie of that name over all {@code Cookie} lines (RFC 6265 §5.4), unquoted. */
  private static String cookie(RequestView request, String name) {
    for (String line : request.headers("Cookie")) {
      for (String pair : line.split(";")) {
        int eq = pair.indexOf('=');
        if (eq < 0 || !pair.substring(0, eq).strip().equals(name)) {
          continue;
        }
        String value = pair.substring(eq + 1).strip();
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
          value = value.substring(1, value.length() - 1);
        }
        return value.isEmpty() ? null : value;
      }
    }
    return null;
  }

  /** The first value of a form-encoded query parameter, or {@code null}. */
  private static String queryParameter(String rawQuery, String name) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return null;
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      String rawName = eq < 0 ? pair : pair.substring(0, eq);
      String decodedName = formDecode(rawName);
      if (decodedName == null || !decodedName.equals(name)) {
        continue;
      }
      if (eq < 0) {
        return null;
      }
      String value = formDecode(pair.substring(eq + 1));
      if (value != null) {
        return value;
      }
    }
    return null;
  }

  /** application/x-www-form-urlencoded decoding, strict UTF-8; {@code null} when malformed. */
  static String formDecode(String text) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '+') {
        bytes.write(' ');
      } else if (c == '%') {
        if (i + 2 >= text.length()) {
          return null;
        }
        int hi = HexFormat.isHexDigit(text.charAt(i + 1)) ? HexFormat.fromHexDigit(text.charAt(i + 1)) : -1;
        int lo = HexFormat.isHexDigit(text.charAt(i + 2)) ? HexFormat.fromHexDigit(text.charAt(i + 2)) : -1;
        if (hi < 0 || lo < 0) {
          return null;
        }
        bytes.write(hi * 16 + lo);
        i += 2;
      } else {
        byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        if (Character.isSurrogate(c)) {
          if (!Character.isHighSurrogate(c) || i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1))) {
            return null;
          }
          utf8 = text.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
          i++;
        }
        bytes.writeBytes(utf8);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static String hashOrNull(String secret) {
    return secret == null || secret.isEmpty() ? null : shortHash(secret);
  }

  /** The first 16 hex digits of the SHA-256 of the UTF-8 value: what secrets look like in identities. */
  static String shortHash(String secret) {
    return sha256Hex(secret).substring(0, HASH_HEX_DIGITS);
  }

  static String sha256Hex(String value) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(value.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  // ---------------------------------------------------------------- builder

  /**
   * Builds an {@link IdentityResolver}. Setters validate their own argument and throw
   * {@link IllegalArgumentException} with a designed message; {@link #build()} checks combinations.
   * Not thread-safe; the resolver it builds is.
   */
  public static final class Builder {
    private CidrSet trustedProxies = CidrSet.empty();
    private IpHeader ipHeader = IpHeader.X_FORWARDED_FOR;
    private int ipv6Prefix = 64;
    private String apiKeyHeader;
    private String apiKeyQuery;
    private List<String> knownKeyDigests;
    private String jwtHeader;
    private String jwtClaim;
    private byte[] hs256Secret;
    private List<Jwt.Key> jwks = List.of();
    private String sessionCookie;
    private List<String> knownSessionDigests;
    private InstantSource wallClock = InstantSource.system();

    private Builder() {}

    /** Proxies allowed to report the client address ({@code trusted_proxies}); default none. */
    public Builder trustedProxies(CidrSet trustedProxies) {
      this.trustedProxies = Objects.requireNonNull(trustedProxies, "trustedProxies");
      return this;
    }

    /** The header trusted proxies report the client in ({@code ip_header}); default x-forwarded-for. */
    public Builder ipHeader(IpHeader ipHeader) {
      this.ipHeader = Objects.requireNonNull(ipHeader, "ipHeader");
      return this;
    }

    /**
     * The prefix IPv6 clients are grouped by ({@code ipv6_prefix}); default 64.
     *
     * @throws IllegalArgumentException unless 1..128
     */
    public Builder ipv6Prefix(int prefix) {
      if (prefix < 1 || prefix > 128) {
        throw new IllegalArgumentException("ipv6_prefix " + prefix + " is out of range 1..128");
      }
      this.ipv6Prefix = prefix;
      return this;
    }

    /**
     * Read the API key from this request header ({@code api_key: {header: X-API-Key}}).
     *
     * @throws IllegalArgumentException when the name is not a header name or a query parameter is
     *     already configured
     */
    public Builder apiKeyHeader(String header) {
      requireHeaderName(header, "api_key.header");
      if (apiKeyQuery != null) {
        throw new IllegalArgumentException(
            "api_key takes either a header or a query parameter, not both (query \"" + apiKeyQuery + "\" is already set)");
      }
      this.apiKeyHeader = header;
      return this;
    }

    /**
     * Read the API key from this query parameter ({@code api_key: {query: api_key}}).
     *
     * @throws IllegalArgumentException when the name is empty or a header is already configured
     */
    public Builder apiKeyQuery(String parameter) {
      if (parameter == null || parameter.isEmpty()) {
        throw new IllegalArgumentException("api_key.query must name a query parameter, got \"\"");
      }
      if (apiKeyHeader != null) {
        throw new IllegalArgumentException(
            "api_key takes either a header or a query parameter, not both (header \"" + apiKeyHeader + "\" is already set)");
      }
      this.apiKeyQuery = parameter;
      return this;
    }

    /**
     * The known API keys ({@code keys_file}): each entry a raw key or the lowercase hex SHA-256 of
     * one (an entry of exactly 64 lowercase hex digits is always read as a digest). When set, an
     * unknown key is no identity. {@code null} = any key identifies (the default).
     *
     * @throws IllegalArgumentException when an entry is empty
     */
    public Builder knownApiKeys(Collection<String> keys) {
      this.knownKeyDigests = digests(keys, "known API key");
      return this;
    }

    /**
     * The known session cookie values ({@code clients.session.keys_file}), with the same rules as
     * {@link #knownApiKeys}: raw values or lowercase hex SHA-256; when set, a session not listed is
     * no identity, so invented cookies never get fresh buckets. {@code null} = any value identifies
     * (the default). Requires {@link #sessionCookie} (checked by {@link #build()}).
     *
     * @throws IllegalArgumentException when an entry is empty
     */
    public Builder knownSessions(Collection<String> sessions) {
      this.knownSessionDigests = digests(sessions, "known session");
      return this;
    }

    private static List<String> digests(Collection<String> values, String what) {
      if (values == null) {
        return null;
      }
      List<String> digests = new ArrayList<>(values.size());
      int line = 0;
      for (String value : values) {
        line++;
        if (value == null || value.isBlank()) {
          throw new IllegalArgumentException(what + " #" + line + " is empty");
        }
        String v = value.strip();
        digests.add(SHA256_HEX.matcher(v).matches() ? v : sha256Hex(v));
      }
      return digests;
    }

    /**
     * Verify {@code user} tokens with HS256 and this secret.
     *
     * @param header the header carrying the token (a {@code Bearer } prefix is stripped)
     * @param claim the claim whose value is the user id, e.g. {@code sub}
     * @param secret the HMAC key bytes (copied)
     * @throws IllegalArgumentException when the header name is invalid, the claim or secret empty,
     *     or a JWT was already configured with another header or claim
     */
    public Builder jwtHs256(String header, String claim, byte[] secret) {
      jwtSource(header, claim);
      if (secret == null || secret.length == 0) {
        throw new IllegalArgumentException("user.jwt HS256 secret is empty; expected the secret bytes");
      }
      this.hs256Secret = secret.clone();
      return this;
    }

    /**
     * Verify {@code user} tokens with RS256/ES256 against the public keys of a JWKS document.
     *
     * @throws IllegalArgumentException when the header or claim is invalid, the JWKS is malformed or
     *     has no usable RS256/ES256 key, or a JWT was already configured with another header or claim
     */
    public Builder jwtJwks(String header, String claim, String jwksJson) {
      jwtSource(header, claim);
      this.jwks = Jwt.parseJwks(Objects.requireNonNull(jwksJson, "jwksJson"));
      return this;
    }

    private void jwtSource(String header, String claim) {
      requireHeaderName(header, "user.jwt.header");
      if (claim == null || claim.isEmpty()) {
        throw new IllegalArgumentException("user.jwt.claim is empty; expected a claim name such as \"sub\"");
      }
      if (jwtHeader != null && (!jwtHeader.equalsIgnoreCase(header) || !jwtClaim.equals(claim))) {
        throw new IllegalArgumentException("user.jwt is already read from header \"" + jwtHeader
            + "\" claim \"" + jwtClaim + "\"; got header \"" + header + "\" claim \"" + claim + "\"");
      }
      this.jwtHeader = header;
      this.jwtClaim = claim;
    }

    /**
     * Read {@code session} identities from this cookie.
     *
     * @throws IllegalArgumentException when the name is not a valid cookie name
     */
    public Builder sessionCookie(String cookie) {
      if (cookie == null || !HttpToken.isToken(cookie)) {
        throw new IllegalArgumentException("session.cookie \"" + cookie
            + "\" is not a valid cookie name; expected letters, digits and !#$%&'*+-.^_`|~");
      }
      this.sessionCookie = cookie;
      return this;
    }

    /** The wall clock JWT {@code exp}/{@code nbf} are checked against; default the system clock. */
    public Builder wallClock(InstantSource wallClock) {
      this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
      return this;
    }

    /**
     * The immutable resolver.
     *
     * @throws IllegalArgumentException when known sessions are given without a session cookie
     */
    public IdentityResolver build() {
      if (knownSessionDigests != null && sessionCookie == null) {
        throw new IllegalArgumentException(
            "known sessions are given but no session cookie; expected session: { cookie: <name>, keys_file: ... }");
      }
      return new IdentityResolver(this);
    }

    private static void requireHeaderName(String header, String what) {
      if (!HttpToken.isToken(header)) {
        throw new IllegalArgumentException(what + " \"" + header
            + "\" is not a valid HTTP header name; expected letters, digits and !#$%&'*+-.^_`|~");
      }
    }
  }

  @Override
  public String toString() {
    return "IdentityResolver[trustedProxies=" + trustedProxies + ", ipHeader=" + ipHeader.configName()
        + ", ipv6Prefix=" + ipv6Prefix + "]";
  }
}
