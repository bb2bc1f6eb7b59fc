package dev.sluice.policy;

import dev.sluice.identity.CidrSet;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Everything the engine needs to decide requests: how identities are derived, who is exempt, the
 * policies in file order and the {@code defaults} policy for requests that match none. Immutable
 * and thread-safe; built with {@link #builder()}. A reload builds a new set and swaps it whole.
 */
public final class PolicySet {
  /** The name of the defaults policy; no user policy may use it. */
  public static final String DEFAULTS_NAME = "default";

  private final IdentityResolver identity;
  private final CidrSet exemptIps;
  private final Set<String> exemptApiKeys;
  private final Optional<Policy> defaults;
  private final List<Policy> policies;
  private final OnError onError;
  private final CidrSet blockIps;
  private final Set<String> blockApiKeys;
  /** Per policy (same order), whether its by chain reads the request body. */
  private final boolean[] readsBody;
  private final boolean defaultsReadBody;
  private final boolean anyBody;

  private PolicySet(Builder b) {
    this.identity = b.identity != null ? b.identity : IdentityResolver.builder().build();
    this.exemptIps = b.exemptIps;
    this.exemptApiKeys = b.exemptApiKeys;
    this.defaults = Optional.ofNullable(b.defaults);
    this.policies = List.copyOf(b.policies);
    this.onError = b.onError;
    this.blockIps = b.blockIps;
    this.blockApiKeys = b.blockApiKeys;
    this.readsBody = new boolean[policies.size()];
    boolean any = false;
    for (int i = 0; i < readsBody.length; i++) {
      readsBody[i] = readsBody(policies.get(i));
      any |= readsBody[i];
    }
    this.defaultsReadBody = defaults.map(PolicySet::readsBody).orElse(false);
    this.anyBody = any || defaultsReadBody;
  }

  /**
   * Whether an identity spec is derived from the request body ({@code body:<field>}, alone or as
   * a part of a composite such as {@code ip+body:username}).
   */
  static boolean usesBody(IdentitySpec spec) {
    if (spec.kind() == IdentityKind.BODY) {
      return true;
    }
    for (IdentitySpec part : spec.parts()) {
      if (part.kind() == IdentityKind.BODY) {
        return true;
      }
    }
    return false;
  }

  private static boolean readsBody(Policy policy) {
    for (IdentitySpec spec : policy.by()) {
      if (usesBody(spec)) {
        return true;
      }
    }
    return false;
  }

  /** Starts an empty policy set: no policies, no defaults, nothing exempt, {@code on_error: allow}. */
  public static Builder builder() {
    return new Builder();
  }

  /** How client addresses and identities are derived from requests. */
  public IdentityResolver identity() {
    return identity;
  }

  /** Client addresses that are never limited ({@code exempt.ips}). */
  public CidrSet exemptIps() {
    return exemptIps;
  }

  /** Raw API keys that are never limited ({@code exempt.api_keys}). */
  public Set<String> exemptApiKeys() {
    return exemptApiKeys;
  }

  /** Client addresses always refused with 403 ({@code block.ips}); checked before exemptions. */
  public CidrSet blockIps() {
    return blockIps;
  }

  /** Raw API keys always refused with 403 ({@code block.api_keys}); checked before exemptions. */
  public Set<String> blockApiKeys() {
    return blockApiKeys;
  }

  /**
   * Whether a request with this method and normalised path must have its body buffered (up to
   * the gateway's bound) before it is decided: true when a policy that would apply to it (a
   * matching policy, or the defaults when none matches) identifies by a {@code body:} field.
   * Cheap: false at once for policy sets without body identities.
   */
  public boolean needsBody(String method, String path) {
    if (!anyBody) {
      return false;
    }
    boolean matched = false;
    for (int i = 0; i < readsBody.length; i++) {
      if (policies.get(i).matcher().matches(method, path)) {
        if (readsBody[i]) {
          return true;
        }
        // Defaults also apply when only partially enforced policies matched (SPEC §2).
        matched |= policies.get(i).rollout() == Rollout.ALL;
      }
    }
    return !matched && defaultsReadBody;
  }

  /** The {@code default} policy, applied to requests no matched policy enforces (SPEC §2); may be absent. */
  public Optional<Policy> defaults() {
    return defaults;
  }

  /** The policies in file order. */
  public List<Policy> policies() {
    return policies;
  }

  /** The store-wide {@code on_error}, used by policies that do not override it. */
  public OnError onError() {
    return onError;
  }

  /** The {@code on_error} that applies to {@code policy}: its own override, else the set's. */
  public OnError onErrorOf(Policy policy) {
    return policy.onError().orElse(onError);
  }

  /**
   * Collects a policy set. Not thread-safe. Errors are {@link PolicyConfigException}s with full
   * config paths ({@code policies[2].name}, {@code defaults.limits}, {@code exempt.api_keys[0]}).
   */
  public static final class Builder {
    private IdentityResolver identity;
    private CidrSet exemptIps = CidrSet.empty();
    private Set<String> exemptApiKeys = Set.of();
    private Policy defaults;
    private final List<Policy> policies = new ArrayList<>();
    private OnError onError = OnError.ALLOW;
    private CidrSet blockIps = CidrSet.empty();
    private Set<String> blockApiKeys = Set.of();

    private Builder() {}

    /** Client addresses always refused with 403 ({@code block.ips}); default none. */
    public Builder blockIps(CidrSet blockIps) {
      this.blockIps = require(blockIps, "block.ips");
      return this;
    }

    /**
     * Raw API keys always refused with 403 ({@code block.api_keys}), e.g. leaked keys.
     *
     * @throws PolicyConfigException (path {@code block.api_keys[i]}) for a blank key
     */
    public Builder blockApiKeys(Collection<String> keys) {
      require(keys, "block.api_keys");
      Set<String> copy = new LinkedHashSet<>();
      int i = 0;
      for (String key : keys) {
        if (key == null || key.isBlank()) {
          throw new PolicyConfigException("block.api_keys[" + i + "]", PolicyMessages.blankBlockedKey(i));
        }
        copy.add(key);
        i++;
      }
      this.blockApiKeys = Set.copyOf(copy);
      return this;
    }

    /** How identities are derived; default: a resolver with default settings (trust no proxy). */
    public Builder identity(IdentityResolver identity) {
      this.identity = require(identity, "clients");
      return this;
    }

    /** Client addresses never limited ({@code exempt.ips}); default none. */
    public Builder exemptIps(CidrSet exemptIps) {
      this.exemptIps = require(exemptIps, "exempt.ips");
      return this;
    }

    /**
     * Raw API keys never limited ({@code exempt.api_keys}); compared with the request's raw key.
     *
     * @throws PolicyConfigException (path {@code exempt.api_keys[i]}) for a blank key
     */
    public Builder exemptApiKeys(Collection<String> keys) {
      require(keys, "exempt.api_keys");
      Set<String> copy = new LinkedHashSet<>();
      int i = 0;
      for (String key : keys) {
        if (key == null || key.isBlank()) {
          throw new PolicyConfigException(
              "exempt.api_keys[" + i + "]", PolicyMessages.blankExemptKey(i));
        }
        copy.add(key);
        i++;
      }
      this.exemptApiKeys = Set.copyOf(copy);
      return this;
    }

    /**
     * The {@code defaults} section: a policy named {@code default} that applies to requests
     * no matched policy enforces (SPEC §2). Optional.
     *
     * @throws PolicyConfigException (path {@code defaults.by…} or {@code defaults.limits…}) when
     *     the chain or the limits are invalid, as for {@link Policy.Builder}
     */
    public Builder defaults(List<IdentitySpec> by, List<Limit> limits) {
      try {
        this.defaults = Policy.defaultsBuilder().paths(List.of("/**")).by(by).limits(limits).build();
      } catch (PolicyConfigException e) {
        throw e.under("defaults");
      }
      return this;
    }

    /** Adds the next policy, in file order. Names are checked in {@link #build()}. */
    public Builder policy(Policy policy) {
      policies.add(require(policy, "policies[" + policies.size() + "]"));
      return this;
    }

    /** The store-wide {@code on_error} ({@code store.on_error}); default {@link OnError#ALLOW}. */
    public Builder onError(OnError onError) {
      this.onError = require(onError, "store.on_error");
      return this;
    }

    /**
     * Builds the set.
     *
     * @throws PolicyConfigException (path {@code policies[i].name}) when a policy uses the
     *     reserved name {@code default} or the name of an earlier policy
     */
    public PolicySet build() {
      Map<String, Integer> seen = new HashMap<>();
      for (int i = 0; i < policies.size(); i++) {
        String name = policies.get(i).name();
        if (DEFAULTS_NAME.equals(name)) {
          throw new PolicyConfigException(
              "policies[" + i + "].name", PolicyMessages.reservedName(name));
        }
        Integer first = seen.putIfAbsent(name, i);
        if (first != null) {
          throw new PolicyConfigException(
              "policies[" + i + "].name", PolicyMessages.duplicateName(name, first));
        }
      }
      return new PolicySet(this);
    }

    private static <T> T require(T value, String path) {
      if (value == null) {
        throw new PolicyConfigException(path, PolicyMessages.nullValue("policy set", path));
      }
      return value;
    }
  }
}
