package dev.sluice.identity;

import dev.sluice.identity.internal.Json;
import dev.sluice.identity.internal.JsonException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies compact JWS tokens (JWT) with HS256, RS256 or ES256 and returns their claims.
 *
 * <p>Design: the algorithm is chosen by the configuration, never by the token. A token's {@code alg}
 * only selects among the keys configured for that algorithm, so {@code alg: none}, an HMAC token
 * signed with an RSA public key as secret, or any algorithm not configured is rejected. Headers
 * with {@code crit} are rejected (we understand no extensions). Claims are parsed only after the
 * signature verified. Every failure is a {@code null} result: a request with a bad token simply has
 * no {@code user} identity, and nothing about the token is logged.
 *
 * <p>Immutable and thread-safe: {@link Mac} and {@link Signature} objects are created per call.
 */
final class Jwt {
  /** Longest token considered; longer ones are rejected before any decoding work. */
  static final int MAX_TOKEN_LENGTH = 16 * 1024;

  private static final ECParameterSpec P256 = p256();

  /** A public key from a JWKS. {@code alg} is {@code RS256} or {@code ES256}; {@code kid} may be null. */
  record Key(String kid, String alg, PublicKey key) {}

  private final byte[] hs256Secret;
  private final List<Key> keys;

  Jwt(byte[] hs256Secret, List<Key> keys) {
    this.hs256Secret = hs256Secret == null ? null : hs256Secret.clone();
    this.keys = List.copyOf(keys);
  }

  /** A copy of the HS256 secret, if one is configured. */
  java.util.Optional<byte[]> hs256Secret() {
    return hs256Secret == null ? java.util.Optional.empty() : java.util.Optional.of(hs256Secret.clone());
  }

  /** The verified, currently valid claims of the token, or {@code null}. */
  Map<String, Object> verify(String token, Instant now) {
    if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_LENGTH) {
      return null;
    }
    int dot1 = token.indexOf('.');
    int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0 || dot2 == dot1 + 1
        || dot2 == token.length() - 1) {
      return null;
    }
    byte[] headerBytes = base64Url(token.substring(0, dot1));
    byte[] payloadBytes = base64Url(token.substring(dot1 + 1, dot2));
    byte[] signature = base64Url(token.substring(dot2 + 1));
    if (headerBytes == null || payloadBytes == null || signature == null) {
      return null;
    }
    Map<String, Object> header = jsonObject(headerBytes);
    if (header == null || header.containsKey("crit") || !(header.get("alg") instanceof String alg)) {
      return null;
    }
    Object kidValue = header.get("kid");
    if (kidValue != null && !(kidValue instanceof String)) {
      return null;
    }
    byte[] signingInput = token.substring(0, dot2).getBytes(StandardCharsets.US_ASCII);
    if (!verifySignature(alg, (String) kidValue, signingInput, signature)) {
      return null;
    }
    Map<String, Object> claims = jsonObject(payloadBytes);
    if (claims == null || !timeValid(claims, now)) {
      return null;
    }
    return claims;
  }

  private boolean verifySignature(String alg, String kid, byte[] input, byte[] signature) {
    try {
      if (alg.equals("HS256")) {
        if (hs256Secret == null) {
          return false;
        }
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(hs256Secret, "HmacSHA256"));
        // Constant-time: a byte-by-byte early exit would let a client find a valid MAC by timing.
        return MessageDigest.isEqual(mac.doFinal(input), signature);
      }
      if (!alg.equals("RS256") && !alg.equals("ES256")) {
        return false;
      }
      for (Key key : keys) {
        if (!key.alg().equals(alg) || (kid != null && !kid.equals(key.kid()))) {
          continue;
        }
        if (alg.equals("RS256")) {
          Signature verifier = Signature.getInstance("SHA256withRSA");
          verifier.initVerify(key.key());
          verifier.update(input);
          if (verifier.verify(signature)) {
            return true;
          }
        } else {
          byte[] der = joseToDer(signature);
          if (der == null) {
            return false;
          }
          Signature verifier = Signature.getInstance("SHA256withECDSA");
          verifier.initVerify(key.key());
          verifier.update(input);
          if (verifier.verify(der)) {
            return true;
          }
        }
      }
      return false;
    } catch (GeneralSecurityException | RuntimeException e) {
      return false; // a malformed signature is just an invalid token
    }
  }

  /**
   * JOSE ES256 signatures are the raw 32-byte {@code r} and {@code s}; java.security wants DER
   * {@code SEQUENCE { INTEGER r, INTEGER s }}. Values outside 1..n-1 are rejected here, before the
   * provider sees them (CVE-2022-21449 accepted r = s = 0 on some JDKs).
   */
  static byte[] joseToDer(byte[] raw) {
    if (raw.length != 64) {
      return null;
    }
    BigInteger r = new BigInteger(1, java.util.Arrays.copyOfRange(raw, 0, 32));
    BigInteger s = new BigInteger(1, java.util.Arrays.copyOfRange(raw, 32, 64));
    BigInteger n = P256.getOrder();
    if (r.signum() == 0 || s.signum() == 0 || r.compareTo(n) >= 0 || s.compareTo(n) >= 0) {
      return null;
    }
    byte[] rb = r.toByteArray();
    byte[] sb = s.toByteArray();
    int length = 2 + rb.length + 2 + sb.length; // at most 70: short-form DER lengths suffice
    byte[] der = new byte[2 + length];
    int i = 0;
    der[i++] = 0x30;
    der[i++] = (byte) length;
    der[i++] = 0x02;
    der[i++] = (byte) rb.length;
    System.arraycopy(rb, 0, der, i, rb.length);
    i += rb.length;
    der[i++] = 0x02;
    der[i++] = (byte) sb.length;
    System.arraycopy(sb, 0, der, i, sb.length);
    return der;
  }

  /** {@code exp} (now must be before it) and {@code nbf} (now must not be before it), when present. */
  private static boolean timeValid(Map<String, Object> claims, Instant now) {
    BigDecimal nowSeconds = BigDecimal.valueOf(now.getEpochSecond()).add(BigDecimal.valueOf(now.getNano(), 9));
    if (claims.containsKey("exp")) {
      if (!(claims.get("exp") instanceof BigDecimal exp) || nowSeconds.compareTo(exp) >= 0) {
        return false;
      }
    }
    if (claims.containsKey("nbf")) {
      return claims.get("nbf") instanceof BigDecimal nbf && nowSeconds.compareTo(nbf) >= 0;
    }
    return true;
  }

  private static Map<String, Object> jsonObject(byte[] utf8) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(utf8)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return null;
    }
    try {
      return Json.parseObject(text);
    } catch (JsonException e) {
      return null;
    }
  }

  /** Strict unpadded base64url, or {@code null}. */
  static byte[] base64Url(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!ok) {
        return null;
      }
    }
    try {
      return Base64.getUrlDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Reads the RS256/ES256 signing keys of a JWKS document ({@code {"keys": [...]}}). Keys of other
   * types or curves, or marked {@code "use": "enc"} or with another {@code alg}, are skipped.
   *
   * @throws IllegalArgumentException when the document is not a JWKS, a supported key is malformed or
   *     too weak (RSA below 2048 bits), or no usable key remains
   */
  static List<Key> parseJwks(String json) {
    Map<String, Object> doc;
    try {
      doc = Json.parseObject(json);
    } catch (JsonException e) {
      throw new IllegalArgumentException("invalid JWKS: not a JSON object (" + e.getMessage() + ")", e);
    }
    if (!(doc.get("keys") instanceof List<?> list)) {
      throw new IllegalArgumentException("invalid JWKS: expected an object with a \"keys\" array");
    }
    List<Key> keys = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String where = "invalid JWKS: keys[" + i + "]: ";
      if (!(list.get(i) instanceof Map<?, ?> jwk)) {
        throw new IllegalArgumentException(where + "expected a JSON object");
      }
      Object kty = jwk.get("kty");
      Object use = jwk.get("use");
      Object alg = jwk.get("alg");
      Object kid = jwk.get("kid");
      if (kid != null && !(kid instanceof String)) {
        throw new IllegalArgumentException(where + "\"kid\" must be a string");
      }
      if (use != null && !"sig".equals(use)) {
        continue;
      }
      try {
        if ("RSA".equals(kty) && (alg == null || "RS256".equals(alg))) {
          BigInteger n = new BigInteger(1, member(jwk, "n", where));
          BigInteger e = new BigInteger(1, member(jwk, "e", where));
          if (n.bitLength() < 2048) {
            throw new IllegalArgumentException(where + "RSA key of " + n.bitLength()
                + " bits is too weak; expected at least 2048 bits");
          }
          PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
          keys.add(new Key((String) kid, "RS256", key));
        } else if ("EC".equals(kty) && "P-256".equals(jwk.get("crv")) && (alg == null || "ES256".equals(alg))) {
          byte[] x = member(jwk, "x", where);
          byte[] y = member(jwk, "y", where);
          if (x.length != 32 || y.length != 32) {
            throw new IllegalArgumentException(where + "P-256 coordinates \"x\" and \"y\" must be 32 bytes each");
          }
          ECPoint point = new ECPoint(new BigInteger(1, x), new BigInteger(1, y));
          PublicKey key = KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, P256));
          keys.add(new Key((String) kid, "ES256", key));
        }
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException(where + "not a valid public key (" + e.getMessage() + ")", e);
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid JWKS: it contains no usable signing key; expected RSA (RS256) or EC P-256 (ES256) keys");
    }
    return keys;
  }

  private static byte[] member(Map<?, ?> jwk, String name, String where) {
    if (!(jwk.get(name) instanceof String text) || text.isEmpty()) {
      throw new IllegalArgumentException(where + "missing string member \"" + name + "\"");
    }
    byte[] bytes = base64Url(text);
    if (bytes == null) {
      throw new IllegalArgumentException(where + "\"" + name + "\" is not unpadded base64url");
    }
    return bytes;
  }

  private static ECParameterSpec p256() {
    try {
      AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
      parameters.init(new ECGenParameterSpec("secp256r1"));
      return parameters.getParameterSpec(ECParameterSpec.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks the P-256 curve needed for ES256", e);
    }
  }
}
