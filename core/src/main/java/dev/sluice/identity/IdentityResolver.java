package dev.sluice.identity;

import dev.sluice.request.HttpToken;
import dev.sluice.request.RequestView;
import java.net.InetAddress;
import java.time.InstantSource;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

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
 * body:} fields such as a username) never leave the resolver raw inside an {@link Identity}: the
 * value is the first 16 hex digits of their SHA-256 ({@link SecretDigest}), so buckets,
 * metrics and audit logs never hold a credential. The same digest prefix appears at the start of a
 * {@code keys_file} sha256 entry, so operators can find which key an audit line is about.
 * <b>user</b> comes only from a JWT whose signature verified and that is within {@code exp}/{@code
 * nbf} (see {@link Jwt}).
 *
 * <p>Layout: the walk is {@link ProxyWalk} over {@link ForwardedChain}, with an {@link
 * AddressCache} for what an address alone determines; each configured source is its own class
 * ({@link ApiKeySource}, {@link UserSource}, {@link SessionSource}, {@link HeaderSource}, {@link
 * BodyField}); this class composes them behind one API and owns the composite rule.
 *
 * <p>Immutable and thread-safe.
 */
public final class IdentityResolver {
  private static final String GLOBAL_VALUE = "*";

  private final int ipv6Prefix;
  private final AddressCache addresses;
  private final ProxyWalk proxies;
  private final ApiKeySource apiKeys;
  private final UserSource user;
  private final SessionSource sessions;

  private IdentityResolver(Builder b) {
    this.ipv6Prefix = b.ipv6Prefix;
    this.addresses = new AddressCache(b.ipv6Prefix);
    this.proxies = new ProxyWalk(b.trustedProxies, b.ipHeader, addresses);
    this.apiKeys = new ApiKeySource(b.apiKeyHeader, b.apiKeyQuery,
        b.knownKeyDigests == null ? null : Set.copyOf(b.knownKeyDigests));
    this.user = new UserSource(b.jwtHeader, b.jwtClaim, b.jwtHeader == null ? null : new Jwt(b.hs256Secret, b.jwks),
        b.wallClock);
    this.sessions = new SessionSource(b.sessionCookie,
        b.knownSessionDigests == null ? null : Set.copyOf(b.knownSessionDigests));
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
    return proxies.clientAddress(request);
  }

  /**
   * Whether {@code peer} is a trusted proxy whose forwarding header this resolver believes: it is
   * in {@code trusted_proxies} and a client-IP header is configured. The gateway forwards such a
   * peer's own client claims ({@code Forwarded}, {@code X-Real-IP}, {@code X-Forwarded-Proto}, …)
   * upstream and strips everyone else's.
   */
  public boolean isTrustedProxy(InetAddress peer) {
    return proxies.isTrustedProxy(peer);
  }

  /**
   * The identity value a secret or personal value gets ({@code api_key}, {@code session},
   * {@code header:}, {@code body:} identities): the first 16 hex digits of the SHA-256 of the value
   * without surrounding white space, exactly as a request carrying it is identified; {@code null}
   * when nothing is left. For operators naming an identity, e.g. a ban through the admin API.
   */
  public String secretValue(String raw) {
    return SecretDigest.hashOrNull(Objects.requireNonNull(raw, "raw").strip());
  }

  // ---------------------------------------------------------------- where identities come from
  // Read by tools that build requests a deployment must identify (sluice verify), so they follow
  // the loaded file instead of re-reading it.

  /** The header the API key is read from ({@code api_key: {header: ...}}), if any. */
  public Optional<String> apiKeyHeader() {
    return Optional.ofNullable(apiKeys.header());
  }

  /** The query parameter the API key is read from ({@code api_key: {query: ...}}), if any. */
  public Optional<String> apiKeyQuery() {
    return Optional.ofNullable(apiKeys.query());
  }

  /** Whether only keys of a {@code keys_file} identify (an invented key is no identity). */
  public boolean knowsApiKeys() {
    return apiKeys.knowsKeys();
  }

  /** The header a {@code user} JWT is read from, if {@code user} is configured. */
  public Optional<String> jwtHeader() {
    return Optional.ofNullable(user.header());
  }

  /** The claim whose value is the {@code user} identity, if {@code user} is configured. */
  public Optional<String> jwtClaim() {
    return Optional.ofNullable(user.claim());
  }

  /**
   * A copy of the HS256 secret {@code user} tokens are verified with, if one is configured: the
   * process already holds it from its environment; a verifying tool signs test tokens with it.
   */
  public Optional<byte[]> hs256Secret() {
    return user.hs256Secret();
  }

  /** The cookie {@code session} identities are read from, if configured. */
  public Optional<String> sessionCookie() {
    return Optional.ofNullable(sessions.cookie());
  }

  /** Whether only sessions of a {@code keys_file} identify. */
  public boolean knowsSessions() {
    return sessions.knowsSessions();
  }

  /** {@code trusted_proxies}. */
  public CidrSet trustedProxies() {
    return proxies.trustedProxies();
  }

  /** {@code ip_header}. */
  public IpHeader ipHeader() {
    return proxies.ipHeader();
  }

  /**
   * The text used as the value of {@code ip} identities: IPv4 as a dotted quad, IPv6 grouped by
   * {@code ipv6_prefix} as {@code network/prefix} (e.g. {@code 2001:db8:1:2::/64}), or the plain
   * address when the prefix is 128. IPv4-mapped IPv6 counts as IPv4.
   */
  public String ipValue(InetAddress address) {
    return addresses.ipValue(address);
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
    Map<String, String> replayed = request.resolvedIdentities();
    String asResolved = replayed == null || spec.kind() == IdentityKind.GLOBAL ? null : replayed.get(spec.toString());
    if (asResolved != null) {
      return new Identity(spec, asResolved);
    }
    String value = switch (spec.kind()) {
      case IP -> ipValue(client.client());
      case GLOBAL -> GLOBAL_VALUE;
      case API_KEY -> apiKeys.value(request);
      case SESSION -> sessions.value(request);
      case HEADER -> HeaderSource.value(request, spec.parameter());
      case USER -> user.value(request);
      case BODY -> SecretDigest.hashOrNull(BodyField.read(request, spec.parameter()));
      case COMPOSITE -> composite(spec, request, client);
    };
    return value == null ? null : new Identity(spec, value);
  }

  /** The {@code ip} identity of {@code client}: its {@link #ipValue} under the {@code ip} spec. */
  public Identity ipIdentity(ClientAddress client) {
    return addresses.known(client.client()).cachedIp();
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
      case API_KEY -> apiKeys.configured();
      case USER -> user.configured();
      case SESSION -> sessions.cookie() != null;
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
    return apiKeys.raw(request);
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
      this.knownKeyDigests = SecretDigest.digests(keys, "known API key");
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
      this.knownSessionDigests = SecretDigest.digests(sessions, "known session");
      return this;
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
    return "IdentityResolver[trustedProxies=" + proxies.trustedProxies() + ", ipHeader=" + proxies.ipHeader().configName()
        + ", ipv6Prefix=" + ipv6Prefix + "]";
  }
}
