package dev.sluice.policy;

import dev.sluice.identity.CidrSet;
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

  private PolicySet(Builder b) {
    this.identity = b.identity != null ? b.identity : IdentityResolver.builder().build();
    this.exemptIps = b.exemptIps;
    this.exemptApiKeys = b.exemptApiKeys;
    this.defaults = Optional.ofNullable(b.defaults);
    this.policies = List.copyOf(b.policies);
    this.onError = b.onError;
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

  /** The {@code default} policy, applied only to requests no policy matched; may be absent. */
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

    private Builder() {}

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
     * The {@code defaults} section: a policy named {@code default} that applies only to requests
     * no policy matched. Optional.
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
