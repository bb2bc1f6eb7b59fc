package dev.sluice.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code user} identities from HS256, RS256 and ES256 tokens. Keys are generated per run. */
class JwtTest {
  private static final IdentitySpec USER = IdentitySpec.parse("user");
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  private static final long T = NOW.getEpochSecond();
  private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);

  private static KeyPair rsa;
  private static KeyPair rsaOther;
  private static KeyPair ec;
  private static KeyPair ecOther;

  @BeforeAll
  static void keys() throws Exception {
    KeyPairGenerator rsaGen = KeyPairGenerator.getInstance("RSA");
    rsaGen.initialize(2048);
    rsa = rsaGen.generateKeyPair();
    rsaOther = rsaGen.generateKeyPair();
    KeyPairGenerator ecGen = KeyPairGenerator.getInstance("EC");
    ecGen.initialize(new ECGenParameterSpec("secp256r1"));
    ec = ecGen.generateKeyPair();
    ecOther = ecGen.generateKeyPair();
  }

  // ------------------------------------------------------------------ token building

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String b64(String json) {
    return b64(json.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] unsigned(BigInteger value, int length) {
    byte[] bytes = value.toByteArray();
    if (bytes.length == length) {
      return bytes;
    }
    byte[] out = new byte[length];
    if (bytes.length > length) {
      System.arraycopy(bytes, bytes.length - length, out, 0, length);
    } else {
      System.arraycopy(bytes, 0, out, length - bytes.length, bytes.length);
    }
    return out;
  }

  private static String hs256(String header, String claims, byte[] secret) throws Exception {
    String input = b64(header) + "." + b64(claims);
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret, "HmacSHA256"));
    return input + "." + b64(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
  }

  private static String rs256(String header, String claims, PrivateKey key) throws Exception {
    String input = b64(header) + "." + b64(claims);
    Signature s = Signature.getInstance("SHA256withRSA");
    s.initSign(key);
    s.update(input.getBytes(StandardCharsets.US_ASCII));
    return input + "." + b64(s.sign());
  }

  /** Signs with java.security (DER) and converts to the JOSE raw r||s form. */
  private static String es256(String header, String claims, PrivateKey key) throws Exception {
    String input = b64(header) + "." + b64(claims);
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initSign(key);
    s.update(input.getBytes(StandardCharsets.US_ASCII));
    byte[] der = s.sign();
    int rLength = der[3];
    BigInteger r = new BigInteger(Arrays.copyOfRange(der, 4, 4 + rLength));
    int sLength = der[5 + rLength];
    BigInteger sv = new BigInteger(Arrays.copyOfRange(der, 6 + rLength, 6 + rLength + sLength));
    byte[] raw = new byte[64];
    System.arraycopy(unsigned(r, 32), 0, raw, 0, 32);
    System.arraycopy(unsigned(sv, 32), 0, raw, 32, 32);
    return input + "." + b64(raw);
  }

  private static String rsaJwk(String kid, KeyPair pair) {
    RSAPublicKey key = (RSAPublicKey) pair.getPublic();
    return "{\"kty\":\"RSA\"," + (kid == null ? "" : "\"kid\":\"" + kid + "\",") + "\"use\":\"sig\",\"n\":\""
        + b64(unsigned(key.getModulus(), key.getModulus().bitLength() / 8)) + "\",\"e\":\""
        + b64(key.getPublicExponent().toByteArray()) + "\"}";
  }

  private static String ecJwk(String kid, KeyPair pair) {
    ECPublicKey key = (ECPublicKey) pair.getPublic();
    return "{\"kty\":\"EC\",\"crv\":\"P-256\"," + (kid == null ? "" : "\"kid\":\"" + kid + "\",")
        + "\"x\":\"" + b64(unsigned(key.getW().getAffineX(), 32)) + "\",\"y\":\""
        + b64(unsigned(key.getW().getAffineY(), 32)) + "\"}";
  }

  private static String jwks(String... keys) {
    return "{\"keys\":[" + String.join(",", keys) + "]}";
  }

  private static String claims(String extra) {
    return "{\"sub\":\"alice\",\"exp\":" + (T + 60) + (extra.isEmpty() ? "" : "," + extra) + "}";
  }

  private static final String HS = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  private static final String RS = "{\"alg\":\"RS256\",\"kid\":\"r1\"}";
  private static final String ES = "{\"alg\":\"ES256\",\"kid\":\"e1\"}";

  private static IdentityResolver hsResolver() {
    return IdentityResolver.builder().jwtHs256("Authorization", "sub", SECRET).wallClock(InstantSource.fixed(NOW)).build();
  }

  private static IdentityResolver jwksResolver() {
    return IdentityResolver.builder()
        .jwtJwks("Authorization", "sub", jwks(rsaJwk("r1", rsa), ecJwk("e1", ec), "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AA\"}"))
        .wallClock(InstantSource.fixed(NOW)).build();
  }

  private static Optional<String> user(IdentityResolver resolver, String authorization) {
    TestRequest request = TestRequest.from("192.0.2.1").header("Authorization", authorization);
    return resolver.identify(USER, request, resolver.clientAddress(request)).map(Identity::value);
  }

  // ------------------------------------------------------------------ HS256

  @Test
  void hs256_valid_isUser() throws Exception {
    assertThat(user(hsResolver(), "Bearer " + hs256(HS, claims(""), SECRET))).contains("alice");
    assertThat(user(hsResolver(), "bearer " + hs256(HS, claims(""), SECRET))).as("scheme case").contains("alice");
    assertThat(user(hsResolver(), hs256(HS, claims(""), SECRET))).as("without scheme").contains("alice");
  }

  @Test
  void hs256_badSignature_isNoUser() throws Exception {
    assertThat(user(hsResolver(), "Bearer " + hs256(HS, claims(""), "another-secret-another-secret-xx".getBytes(StandardCharsets.UTF_8)))).isEmpty();
    String token = hs256(HS, claims(""), SECRET);
    String tampered = token.substring(0, token.indexOf('.') + 1) + b64(claims("").replace("alice", "admin"))
        + token.substring(token.lastIndexOf('.'));
    assertThat(user(hsResolver(), "Bearer " + tampered)).isEmpty();
  }

  @Test
  void hs256_expired_isNoUser() throws Exception {
    assertThat(user(hsResolver(), "Bearer " + hs256(HS, "{\"sub\":\"alice\",\"exp\":" + (T - 1) + "}", SECRET))).isEmpty();
    assertThat(user(hsResolver(), "Bearer " + hs256(HS, "{\"sub\":\"alice\",\"exp\":" + T + "}", SECRET)))
        .as("exp is exclusive").isEmpty();
    assertThat(user(hsResolver(), "Bearer " + hs256(HS, "{\"sub\":\"alice\",\"exp\":" + (T + 1) + "}", SECRET))).contains("alice");
    assertThat(user(hsResolver(), "Bearer " + hs256(HS, "{\"sub\":\"alice\",\"exp\":\"never\"}", SECRET)))
        .as("non-numeric exp").isEmpty();
  }

  @Test
  void hs256_notYetValid_isNoUser() throws Exception {
    assertThat(user(hsResolver(), "Bearer " + hs256(HS, claims("\"nbf\":" + (T + 10)), SECRET))).isEmpty();
    assertThat(user(hsResolver(), "Bearer " + hs256(HS, claims("\"nbf\":" + T), SECRET))).contains("alice");
  }

  @Test
  void hs256_noExp_isUser() throws Exception {
    assertThat(user(hsResolver(), "Bearer " + hs256(HS, "{\"sub\":\"alice\"}", SECRET))).contains("alice");
  }

  @Test
  void algNone_isRejected() throws Exception {
    String none = b64("{\"alg\":\"none\"}") + "." + b64(claims(""));
    assertThat(user(hsResolver(), "Bearer " + none + ".")).isEmpty();
    assertThat(user(hsResolver(), "Bearer " + none)).isEmpty();
    assertThat(user(jwksResolver(), "Bearer " + none + ".")).isEmpty();
    // A "none" header with a valid HS256 MAC is still not HS256.
    assertThat(user(hsResolver(), "Bearer " + hs256("{\"alg\":\"none\"}", claims(""), SECRET))).isEmpty();
  }

  @Test
  void wrongAlg_isRejected() throws Exception {
    // RS256 token when only HS256 is configured, and the reverse.
    assertThat(user(hsResolver(), "Bearer " + rs256("{\"alg\":\"RS256\"}", claims(""), rsa.getPrivate()))).isEmpty();
    assertThat(user(jwksResolver(), "Bearer " + hs256(HS, claims(""), SECRET))).isEmpty();
    // Key confusion: HS256 "signed" with the RSA public key bytes as the secret.
    assertThat(user(jwksResolver(), "Bearer " + hs256(HS, claims(""), rsa.getPublic().getEncoded()))).isEmpty();
    // HS512 is not configured.
    assertThat(user(hsResolver(), "Bearer " + hs256("{\"alg\":\"HS512\"}", claims(""), SECRET))).isEmpty();
    assertThat(user(hsResolver(), "Bearer " + hs256("{\"alg\":\"HS256\",\"crit\":[\"x\"]}", claims(""), SECRET)))
        .as("unknown critical extension").isEmpty();
  }

  @Test
  void malformedTokens_areNoUser() throws Exception {
    String valid = hs256(HS, claims(""), SECRET);
    String[] parts = valid.split("\\.");
    for (String bad : new String[] {
        "", "Bearer ", "a.b", "a.b.c.d", parts[0] + ".." + parts[2], "." + parts[1] + "." + parts[2],
        valid + "=", parts[0] + "=." + parts[1] + "." + parts[2], valid.replace('-', '+'),
        b64("not json") + "." + parts[1] + "." + parts[2],
        hs256("[\"alg\",\"HS256\"]", claims(""), SECRET),
        hs256(HS, "not json", SECRET),
        hs256(HS, "{\"sub\":\"alice\",\"sub\":\"bob\"}", SECRET),
        "Bearer " + "x".repeat(Jwt.MAX_TOKEN_LENGTH + 1)}) {
      assertThat(user(hsResolver(), bad)).as(bad).isEmpty();
    }
  }

  @Test
  void claim_missingOrWrongType_isNoUser() throws Exception {
    assertThat(user(hsResolver(), hs256(HS, "{\"exp\":" + (T + 60) + "}", SECRET))).isEmpty();
    assertThat(user(hsResolver(), hs256(HS, "{\"sub\":[\"a\"]}", SECRET))).isEmpty();
    assertThat(user(hsResolver(), hs256(HS, "{\"sub\":\"\"}", SECRET))).isEmpty();
    assertThat(user(hsResolver(), hs256(HS, "{\"sub\":12345}", SECRET))).contains("12345");
    assertThat(user(hsResolver(), hs256(HS, "{\"sub\":1.5}", SECRET))).isEmpty();
  }

  @Test
  void customClaimAndHeader_areUsed() throws Exception {
    IdentityResolver resolver = IdentityResolver.builder().jwtHs256("X-Token", "uid", SECRET)
        .wallClock(InstantSource.fixed(NOW)).build();
    TestRequest request = TestRequest.from("192.0.2.1").header("X-Token", hs256(HS, "{\"uid\":\"u-7\"}", SECRET));
    assertThat(resolver.identify(USER, request, resolver.clientAddress(request)).map(Identity::key)).contains("user:u-7");
  }

  // ------------------------------------------------------------------ RS256

  @Test
  void rs256_valid_isUser() throws Exception {
    assertThat(user(jwksResolver(), "Bearer " + rs256(RS, claims(""), rsa.getPrivate()))).contains("alice");
    assertThat(user(jwksResolver(), "Bearer " + rs256("{\"alg\":\"RS256\"}", claims(""), rsa.getPrivate())))
        .as("no kid: any RS256 key").contains("alice");
  }

  @Test
  void rs256_badSignatureOrUnknownKid_isNoUser() throws Exception {
    assertThat(user(jwksResolver(), "Bearer " + rs256(RS, claims(""), rsaOther.getPrivate()))).isEmpty();
    assertThat(user(jwksResolver(), "Bearer " + rs256("{\"alg\":\"RS256\",\"kid\":\"nope\"}", claims(""), rsa.getPrivate())))
        .isEmpty();
    assertThat(user(jwksResolver(), "Bearer " + rs256("{\"alg\":\"RS256\",\"kid\":\"e1\"}", claims(""), rsa.getPrivate())))
        .as("kid of a key for another alg").isEmpty();
  }

  @Test
  void rs256_expiredOrNotYetValid_isNoUser() throws Exception {
    assertThat(user(jwksResolver(), rs256(RS, "{\"sub\":\"alice\",\"exp\":" + (T - 5) + "}", rsa.getPrivate()))).isEmpty();
    assertThat(user(jwksResolver(), rs256(RS, claims("\"nbf\":" + (T + 5)), rsa.getPrivate()))).isEmpty();
  }

  @Test
  void rs256_kidSelectsAmongSeveralKeys() throws Exception {
    IdentityResolver resolver = IdentityResolver.builder()
        .jwtJwks("Authorization", "sub", jwks(rsaJwk("old", rsaOther), rsaJwk("new", rsa)))
        .wallClock(InstantSource.fixed(NOW)).build();
    assertThat(user(resolver, rs256("{\"alg\":\"RS256\",\"kid\":\"new\"}", claims(""), rsa.getPrivate()))).contains("alice");
    assertThat(user(resolver, rs256("{\"alg\":\"RS256\",\"kid\":\"old\"}", claims(""), rsa.getPrivate()))).isEmpty();
  }

  // ------------------------------------------------------------------ ES256

  @Test
  void es256_valid_isUser() throws Exception {
    assertThat(user(jwksResolver(), "Bearer " + es256(ES, claims(""), ec.getPrivate()))).contains("alice");
    assertThat(user(jwksResolver(), "Bearer " + es256("{\"alg\":\"ES256\"}", claims(""), ec.getPrivate()))).contains("alice");
  }

  @Test
  void es256_badSignature_isNoUser() throws Exception {
    assertThat(user(jwksResolver(), es256(ES, claims(""), ecOther.getPrivate()))).isEmpty();
    String token = es256(ES, claims(""), ec.getPrivate());
    String prefix = token.substring(0, token.lastIndexOf('.') + 1);
    assertThat(user(jwksResolver(), prefix + b64(new byte[64]))).as("r = s = 0 (CVE-2022-21449)").isEmpty();
    byte[] der = Base64.getUrlDecoder().decode(token.substring(token.lastIndexOf('.') + 1));
    assertThat(user(jwksResolver(), prefix + b64(Arrays.copyOf(der, 63)))).as("wrong length").isEmpty();
    assertThat(user(jwksResolver(), prefix + b64(new byte[] {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})))
        .as("DER is not the JOSE form").isEmpty();
  }

  @Test
  void es256_expiredOrNotYetValid_isNoUser() throws Exception {
    assertThat(user(jwksResolver(), es256(ES, "{\"sub\":\"alice\",\"exp\":" + (T - 5) + "}", ec.getPrivate()))).isEmpty();
    assertThat(user(jwksResolver(), es256(ES, claims("\"nbf\":" + (T + 5)), ec.getPrivate()))).isEmpty();
  }

  @Test
  void wallClock_isInjected() throws Exception {
    String token = es256(ES, claims(""), ec.getPrivate());
    IdentityResolver later = IdentityResolver.builder()
        .jwtJwks("Authorization", "sub", jwks(ecJwk("e1", ec)))
        .wallClock(InstantSource.fixed(NOW.plusSeconds(61))).build();
    assertThat(user(later, token)).isEmpty();
  }

  @Test
  void joseToDer_convertsAndRejectsOutOfRange() {
    byte[] raw = new byte[64];
    raw[31] = 1;
    raw[63] = (byte) 0x80;
    assertThat(Jwt.joseToDer(raw)).containsExactly(0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80);
    byte[] max = new byte[64];
    Arrays.fill(max, (byte) 0xFF);
    assertThat(Jwt.joseToDer(max)).as("r >= n").isNull();
  }

  // ------------------------------------------------------------------ JWKS configuration errors

  @Test
  void jwks_invalidDocuments_haveDesignedMessages() throws Exception {
    assertThatThrownBy(() -> IdentityResolver.builder().jwtJwks("Authorization", "sub", "{\"keys\":"))
        .hasMessageStartingWith("invalid JWKS: not a JSON object (");
    assertThatThrownBy(() -> IdentityResolver.builder().jwtJwks("Authorization", "sub", "{}"))
        .hasMessage("invalid JWKS: expected an object with a \"keys\" array");
    assertThatThrownBy(() -> IdentityResolver.builder().jwtJwks("Authorization", "sub", jwks()))
        .hasMessage("invalid JWKS: it contains no usable signing key; expected RSA (RS256) or EC P-256 (ES256) keys");
    assertThatThrownBy(() -> IdentityResolver.builder().jwtJwks("Authorization", "sub", jwks("{\"kty\":\"RSA\",\"e\":\"AQAB\"}")))
        .hasMessage("invalid JWKS: keys[0]: missing string member \"n\"");
    assertThatThrownBy(() -> IdentityResolver.builder().jwtJwks("Authorization", "sub",
        jwks("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}")))
        .hasMessage("invalid JWKS: keys[0]: P-256 coordinates \"x\" and \"y\" must be 32 bytes each");
    KeyPairGenerator weak = KeyPairGenerator.getInstance("RSA");
    weak.initialize(1024);
    assertThatThrownBy(() -> IdentityResolver.builder().jwtJwks("Authorization", "sub", jwks(rsaJwk(null, weak.generateKeyPair()))))
        .hasMessage("invalid JWKS: keys[0]: RSA key of 1024 bits is too weak; expected at least 2048 bits");
    // Keys for encryption only are skipped, which leaves none here.
    assertThatThrownBy(() -> IdentityResolver.builder().jwtJwks("Authorization", "sub",
        jwks(rsaJwk("r", rsa).replace("\"use\":\"sig\"", "\"use\":\"enc\""))))
        .hasMessageStartingWith("invalid JWKS: it contains no usable signing key");
  }

  @Test
  void jwtBuilder_errors_areDesigned() {
    assertThatThrownBy(() -> IdentityResolver.builder().jwtHs256("Authorization", "sub", new byte[0]))
        .hasMessage("user.jwt HS256 secret is empty; expected the secret bytes");
    assertThatThrownBy(() -> IdentityResolver.builder().jwtHs256("Authorization", "", SECRET))
        .hasMessage("user.jwt.claim is empty; expected a claim name such as \"sub\"");
    assertThatThrownBy(() -> IdentityResolver.builder().jwtHs256("Authorization", "sub", SECRET)
        .jwtJwks("X-Token", "sub", jwks(rsaJwk("r", rsa))))
        .hasMessage("user.jwt is already read from header \"Authorization\" claim \"sub\"; got header \"X-Token\" claim \"sub\"");
  }

  @Test
  void hs256AndJwks_together_bothVerify() throws Exception {
    IdentityResolver both = IdentityResolver.builder().jwtHs256("Authorization", "sub", SECRET)
        .jwtJwks("Authorization", "sub", jwks(rsaJwk("r1", rsa))).wallClock(InstantSource.fixed(NOW)).build();
    assertThat(user(both, hs256(HS, claims(""), SECRET))).contains("alice");
    assertThat(user(both, rs256(RS, claims(""), rsa.getPrivate()))).contains("alice");
  }
}
