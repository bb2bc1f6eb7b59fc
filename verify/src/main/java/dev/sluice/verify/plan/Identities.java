package dev.sluice.verify.plan;

import dev.sluice.identity.CidrSet;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IpHeader;
import dev.sluice.policy.PolicySet;
import java.net.InetAddress;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Fresh identities a deployment will recognise, made from where the loaded file reads them: random
 * API keys, session cookies and header values ({@code sluice-verify-} and 16 random hex digits),
 * HS256 JWTs signed with the file's secret, and client addresses from 198.18.0.0/15 (the
 * benchmarking range, RFC 2544: no real client has one) sent in the deployment's client-IP header
 * when {@code --via-trusted-proxy} is given. Thread-safe.
 */
public final class Identities {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final IdentityResolver resolver;
  private final PolicySet set;
  private final boolean viaProxy;

  /** Identities for the file's {@code clients:}; {@code viaProxy} = send addresses in the client-IP header. */
  public Identities(PolicySet set, boolean viaProxy) {
    this.set = set;
    this.resolver = set.identity();
    this.viaProxy = viaProxy && resolver.ipHeader() != IpHeader.NONE;
  }

  /** Whether client addresses can be chosen (through the trusted proxy header). */
  public boolean addressesVary() {
    return viaProxy;
  }

  /**
   * Why verify cannot make a fresh value of {@code kind} (a {@code by:} entry such as {@code
   * api_key}), or empty when it can.
   */
  public Optional<String> cannotProduce(String kind) {
    if (kind.equals("ip")) {
      return viaProxy ? Optional.empty()
          : Optional.of("client addresses cannot be varied without --via-trusted-proxy");
    }
    if (kind.equals("api_key")) {
      if (resolver.apiKeyHeader().isEmpty() && resolver.apiKeyQuery().isEmpty()) {
        return Optional.of("clients.api_key is not configured");
      }
      return resolver.knowsApiKeys() ? Optional.of("api keys come from a keys_file: invented keys are no identity")
          : Optional.empty();
    }
    if (kind.equals("user")) {
      if (resolver.jwtHeader().isEmpty()) {
        return Optional.of("clients.user is not configured");
      }
      return resolver.hs256Secret().isPresent() ? Optional.empty()
          : Optional.of("user tokens are verified with a JWKS: verify holds no private key to sign them");
    }
    if (kind.equals("session")) {
      if (resolver.sessionCookie().isEmpty()) {
        return Optional.of("clients.session is not configured");
      }
      return resolver.knowsSessions() ? Optional.of("sessions come from a keys_file: invented sessions are no identity")
          : Optional.empty();
    }
    if (kind.startsWith("header:")) {
      return Optional.empty();
    }
    if (kind.startsWith("body:")) {
      return Optional.of("body identities (" + kind + ") need request bodies the app accepts; verify sends none");
    }
    if (kind.equals("global")) {
      return Optional.of("a global bucket is shared with every real client: exhausting it would refuse real traffic");
    }
    return Optional.of("identity " + kind + " cannot be produced");
  }

  /** A request's identity values: kind -> value, fresh for every kind not in {@code fixed}. */
  public Map<String, String> values(Recipe recipe, Map<String, String> constantValues) {
    Map<String, String> values = new HashMap<>(constantValues);
    for (String kind : recipe.varying()) {
      values.put(kind, fresh(kind));
    }
    return values;
  }

  /** One fresh value per constant kind of the recipe, with its fixed address or key. */
  public Map<String, String> constants(Recipe recipe) {
    Map<String, String> values = new HashMap<>();
    for (String kind : recipe.constant()) {
      values.put(kind, fresh(kind));
    }
    if (recipe.fixedIp() != null) {
      values.put("ip", recipe.fixedIp());
    }
    if (recipe.fixedApiKey() != null) {
      values.put("api_key", recipe.fixedApiKey());
    }
    return values;
  }

  /** A fresh value of {@code kind}: an address, or {@code sluice-verify-} and random hex. */
  public String fresh(String kind) {
    if (kind.equals("ip")) {
      return freshAddress();
    }
    return "sluice-verify-" + HexFormat.of().formatHex(bytes(8));
  }

  /**
   * The request headers (name, value pairs) and query parameters carrying {@code values}.
   *
   * @return headers in order; the query string (without {@code ?}) under the key {@code ""} is not
   *     used, see {@link #query(Map)}
   */
  public List<String[]> headers(Map<String, String> values) {
    List<String[]> headers = new ArrayList<>();
    values.forEach((kind, value) -> {
      switch (kind) {
        case "ip" -> {
          if (viaProxy) {
            IpHeader h = resolver.ipHeader();
            headers.add(new String[] {h.headerName(), h == IpHeader.FORWARDED ? "for=" + value : value});
          }
        }
        case "api_key" -> resolver.apiKeyHeader().ifPresent(h -> headers.add(new String[] {h, value}));
        case "user" -> {
          String header = resolver.jwtHeader().orElseThrow();
          String token = jwt(resolver.jwtClaim().orElse("sub"), value, resolver.hs256Secret().orElseThrow());
          headers.add(new String[] {header, header.equalsIgnoreCase("authorization") ? "Bearer " + token : token});
        }
        case "session" -> headers.add(new String[] {"Cookie", resolver.sessionCookie().orElseThrow() + "=" + value});
        default -> {
          if (kind.startsWith("header:")) {
            headers.add(new String[] {kind.substring("header:".length()), value});
          }
        }
      }
    });
    return headers;
  }

  /** The query string (no {@code ?}) for an API key read from a query parameter, or {@code ""}. */
  public String query(Map<String, String> values) {
    String key = values.get("api_key");
    if (key == null || resolver.apiKeyQuery().isEmpty()) {
      return "";
    }
    return URLEncoder.encode(resolver.apiKeyQuery().get(), StandardCharsets.UTF_8) + "="
        + URLEncoder.encode(key, StandardCharsets.UTF_8);
  }

  /** The kinds verify can vary on every request (used to catch a deployment counting by another identity). */
  public Set<String> producibleKinds(Set<String> headerNames) {
    Set<String> kinds = new java.util.LinkedHashSet<>();
    for (String kind : List.of("ip", "api_key", "user", "session")) {
      if (cannotProduce(kind).isEmpty()) {
        kinds.add(kind);
      }
    }
    for (String name : headerNames) {
      kinds.add("header:" + name);
    }
    return kinds;
  }

  private String freshAddress() {
    CidrSet avoid1 = resolver.trustedProxies();
    for (int attempt = 0; attempt < 1000; attempt++) {
      byte[] b = bytes(3);
      byte[] address = {(byte) 198, (byte) (18 + (b[0] & 1)), b[1], b[2]};
      if (address[3] == 0 || address[3] == (byte) 255) {
        continue;
      }
      try {
        InetAddress a = InetAddress.getByAddress(address);
        if (!avoid1.contains(a) && !set.exemptIps().contains(a) && !set.blockIps().contains(a)) {
          return a.getHostAddress();
        }
      } catch (UnknownHostException e) {
        throw new IllegalStateException(e);
      }
    }
    throw new IllegalStateException("every address of 198.18.0.0/15 is trusted, exempt or blocked");
  }

  /** An HS256 JWT with {@code claim} = {@code subject}, valid for 15 minutes. */
  static String jwt(String claim, String subject, byte[] secret) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    long now = System.currentTimeMillis() / 1000;
    Map<String, Object> payload = new LinkedHashMap<>();
    payload.put(claim, subject);
    payload.put("iat", now);
    payload.put("exp", now + 900);
    StringBuilder json = new StringBuilder("{");
    payload.forEach((k, v) -> json.append(json.length() > 1 ? "," : "").append('"').append(k).append("\":")
        .append(v instanceof String ? "\"" + v + "\"" : v));
    json.append('}');
    String signingInput = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
        + "." + b64.encodeToString(json.toString().getBytes(StandardCharsets.UTF_8));
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return signingInput + "." + b64.encodeToString(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("every JDK has HmacSHA256", e);
    }
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
