package dev.sluice.engine;

import dev.sluice.identity.CidrSet;
import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.policy.PolicySet;
import dev.sluice.request.RequestView;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * A policy set's {@code block:} list (SPEC §7: FORBIDDEN, before anything else) and its exempt list
 * (SPEC §2: never limited), by client ip and by API key. Immutable; one per engine version.
 */
final class AccessLists {
  private final PolicySet policySet;
  private final IdentityResolver resolver;
  /** SHA-256 digests (hex) of the exempt API keys; see {@link #digest(String)}. */
  private final Set<String> exemptKeyDigests;
  private final Set<String> blockKeyDigests;
  /** Whether either list is empty altogether: the commonest case, answered without a lookup. */
  private final boolean noBlock;
  private final boolean noExempt;

  AccessLists(PolicySet policySet) {
    this.policySet = policySet;
    this.resolver = policySet.identity();
    Set<String> digests = new HashSet<>();
    for (String key : policySet.exemptApiKeys()) {
      digests.add(digest(key));
    }
    this.exemptKeyDigests = Set.copyOf(digests);
    Set<String> blocked = new HashSet<>();
    for (String key : policySet.blockApiKeys()) {
      blocked.add(digest(key));
    }
    this.blockKeyDigests = Set.copyOf(blocked);
    this.noBlock = policySet.blockIps().isEmpty() && blockKeyDigests.isEmpty();
    this.noExempt = policySet.exemptIps().isEmpty() && exemptKeyDigests.isEmpty();
  }

  boolean isBlocked(RequestView request, ClientAddress client) {
    return !noBlock && listed(policySet.blockIps(), blockKeyDigests, request, client);
  }

  boolean isExempt(RequestView request, ClientAddress client) {
    return !noExempt && listed(policySet.exemptIps(), exemptKeyDigests, request, client);
  }

  /** Whether the client's ip is in {@code ips} or the request's API key digest in {@code keyDigests}. */
  private boolean listed(CidrSet ips, Set<String> keyDigests, RequestView request, ClientAddress client) {
    if (!ips.isEmpty() && ips.contains(client.client())) {
      return true;
    }
    if (keyDigests.isEmpty()) {
      return false;
    }
    Optional<String> key = resolver.rawApiKey(request);
    return key.isPresent() && keyDigests.contains(digest(key.get()));
  }

  /**
   * Exempt keys are secrets: looking them up by digest keeps the lookup's timing independent of how
   * much of a real key a client guessed (a string compare stops at the first differing character).
   */
  private static String digest(String key) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      StringBuilder hex = new StringBuilder(hash.length * 2);
      for (byte b : hash) {
        hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      return hex.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JVM provides SHA-256", e);
    }
  }
}
