package dev.sluice.policy;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.algorithm.SlidingWindow;
import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.match.PathPattern;
import dev.sluice.match.RequestMatcher;
import dev.sluice.request.HttpToken;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * One rate-limiting policy of the policy file: which requests it matches, who it counts (the
 * {@code by} chain), and the limits each identity gets. Immutable and thread-safe; built with
 * {@link #builder(String)}.
 *
 * <p>Every policy owns its buckets: a bucket is named by the policy name and one identity value,
 * so two policies never share tokens.
 */
public final class Policy {
  /** Longest accepted policy name; names travel in headers, metrics labels and store keys. */
  static final int MAX_NAME_LENGTH = 64;

  private static final IdentitySpec IP = new IdentitySpec(IdentityKind.IP, null);

  private final String name;
  private final List<String> methods;
  private final List<String> paths;
  private final RequestMatcher matcher;
  private final List<IdentitySpec> by;
  private final List<Limit> limits;
  private final Algorithm algorithm;
  private final long cost;
  private final Mode mode;
  private final Optional<OnError> onError;
  private final String[] itemNames;
  private final List<StatusRange> count;
  private final Optional<Penalty> penalty;
  private final int concurrency;
  private final Priority priority;
  private final int rollout;

  private Policy(Builder b) {
    this.name = b.name;
    this.methods = b.methods;
    this.paths = b.paths;
    this.matcher = new RequestMatcher(b.methods, b.patterns);
    this.by = b.by;
    this.limits = b.limits;
    this.algorithm = b.algorithm;
    this.cost = b.cost;
    this.mode = b.mode;
    this.onError = Optional.ofNullable(b.onError);
    this.count = b.count;
    this.penalty = Optional.ofNullable(b.penalty);
    this.concurrency = b.concurrency;
    this.priority = b.priority;
    this.rollout = b.mode == Mode.SHADOW ? 0 : b.rollout;
    this.itemNames = new String[limits.size()];
    for (int i = 0; i < itemNames.length; i++) {
      itemNames[i] = itemNames.length == 1 ? name : name + "/" + (i + 1);
    }
  }

  /**
   * Starts a policy named {@code name}.
   *
   * @throws PolicyConfigException (path {@code name}) when the name is blank, longer than 64
   *     characters, or has a character other than ASCII letters, digits, {@code -}, {@code _},
   *     {@code .} (it is sent in {@code RateLimit} headers and metric labels)
   */
  public static Builder builder(String name) {
    return new Builder(name, "policy " + PolicyMessages.quote(name));
  }

  /** Builds the {@code default} policy of a policy set; named errors say "defaults". */
  static Builder defaultsBuilder() {
    return new Builder(PolicySet.DEFAULTS_NAME, "defaults");
  }

  /** The unique policy name; it names buckets, metrics and header items. */
  public String name() {
    return name;
  }

  /** The methods matched, upper case, in file order; empty = any method. */
  public List<String> methods() {
    return methods;
  }

  /** The path patterns, as written, in file order; never empty. */
  public List<String> paths() {
    return paths;
  }

  /** The compiled {@code match:} block: methods and path patterns. */
  public RequestMatcher matcher() {
    return matcher;
  }

  /** The identity fallback chain: the first identity a request has is used, else {@code ip}. */
  public List<IdentitySpec> by() {
    return by;
  }

  /** The limits, in file order; a request consumes from all of them or from none. */
  public List<Limit> limits() {
    return limits;
  }

  /** How the limits are counted; {@link Algorithm#GCRA} by default. */
  public Algorithm algorithm() {
    return algorithm;
  }

  /** Tokens each matching request consumes from every limit; 1 by default. */
  public long cost() {
    return cost;
  }

  /** Whether the policy refuses requests ({@link Mode#ENFORCE}, the default) or only reports. */
  public Mode mode() {
    return mode;
  }

  /**
   * The share of identities this policy enforces, in basis points (0 … {@link Rollout#ALL}):
   * {@code rollout:} in the file, default 100%; {@code mode: shadow} is 0. Identities outside the
   * share are decided in shadow (SPEC §9); see {@link Rollout}.
   */
  public int rollout() {
    return rollout;
  }

  /** Whether this policy enforces {@code identityKey} (see {@link #rollout()}). */
  public boolean enforces(String identityKey) {
    return Rollout.enforces(name, identityKey, rollout);
  }

  /** This policy's override of the store's {@code on_error}; empty = use the policy set's. */
  public Optional<OnError> onError() {
    return onError;
  }

  /**
   * The upstream statuses that consume tokens ({@code count.status}); empty (the default) = every
   * admitted request consumes. When set, tokens are reserved when the request is admitted and
   * refunded when the upstream answers with a status not listed, or the exchange ends without an
   * answer.
   */
  public List<StatusRange> count() {
    return count;
  }

  /** Whether an upstream answer with {@code status} consumes tokens (true for every status without {@code count}). */
  public boolean counts(int status) {
    if (count.isEmpty()) {
      return true;
    }
    for (StatusRange range : count) {
      if (range.matches(status)) {
        return true;
      }
    }
    return false;
  }

  /** The ban imposed on identities this policy refuses ({@code penalty}); empty = none. */
  public Optional<Penalty> penalty() {
    return penalty;
  }

  /** The most in-flight requests per identity ({@code concurrency}); 0 = no cap (the default). */
  public int concurrency() {
    return concurrency;
  }

  /** How the gateway sheds this policy's requests under overload; {@link Priority#NORMAL} by default. */
  public Priority priority() {
    return priority;
  }

  /** Whether the policy uses count, penalty or concurrency (the engine's slower path). */
  public boolean usesAbuseControl() {
    return !count.isEmpty() || penalty.isPresent() || concurrency > 0;
  }

  /**
   * The header item name of a limit (SPEC §5): {@code "name"} when the policy has one limit,
   * {@code "name/n"} (n = index + 1) when it has several.
   *
   * @throws IndexOutOfBoundsException when {@code limitIndex} is not an index of {@link #limits()}
   */
  public String itemName(int limitIndex) {
    if (limitIndex < 0 || limitIndex >= itemNames.length) {
      throw new IndexOutOfBoundsException(
          PolicyMessages.limitIndexOutOfRange(name, limitIndex, itemNames.length));
    }
    return itemNames[limitIndex];
  }

  @Override
  public String toString() {
    return "Policy[" + name + " " + methods + " " + paths + " by " + by + " " + limits + " "
        + algorithm.configName() + " cost " + cost + " " + mode.configName() + "]";
  }

  /**
   * Collects a policy's settings. Setters reject bad single values at once; {@link #build()}
   * checks the rules that involve several fields. Every error is a {@link PolicyConfigException}
   * whose path is relative to the policy ({@code cost}, {@code match.paths[1]}), and whose message
   * names the policy. Not thread-safe.
   */
  public static final class Builder {
    private final String name;
    private final String subject;
    private List<String> methods = List.of();
    private List<String> paths;
    private List<PathPattern> patterns;
    private List<IdentitySpec> by = List.of(IP);
    private List<Limit> limits;
    private Algorithm algorithm = Algorithm.GCRA;
    private long cost = 1;
    private Mode mode = Mode.ENFORCE;
    private OnError onError;
    private List<StatusRange> count = List.of();
    private Penalty penalty;
    private int concurrency;
    private Priority priority = Priority.NORMAL;
    private int rollout = Rollout.ALL;

    private Builder(String name, String subject) {
      this.subject = subject;
      this.name = checkName(name);
    }

    /**
     * The methods this policy matches ({@code match.methods}); empty = any (the default). Names
     * are upper-cased; {@code HEAD} requests match a policy that lists {@code GET}.
     *
     * @throws PolicyConfigException (path {@code match.methods[i]}) for a value that is not an
     *     HTTP method token
     */
    public Builder methods(Collection<String> methods) {
      require(methods, "match.methods");
      Set<String> upper = new LinkedHashSet<>();
      int i = 0;
      for (String method : methods) {
        if (!HttpToken.isToken(method)) {
          throw new PolicyConfigException(
              "match.methods[" + i + "]", PolicyMessages.badMethod(subject, method));
        }
        upper.add(method.toUpperCase(Locale.ROOT));
        i++;
      }
      this.methods = List.copyOf(upper);
      return this;
    }

    /**
     * The path patterns this policy matches ({@code match.paths}): exact {@code /a/b},
     * {@code *} = one segment, {@code **} = zero or more trailing segments. Required.
     *
     * @throws PolicyConfigException (path {@code match.paths} or {@code match.paths[i]}) when the
     *     list is empty or a pattern is invalid
     */
    public Builder paths(Collection<String> paths) {
      require(paths, "match.paths");
      if (paths.isEmpty()) {
        throw new PolicyConfigException("match.paths", PolicyMessages.noPaths(subject));
      }
      List<String> copy = new ArrayList<>(paths.size());
      List<PathPattern> compiled = new ArrayList<>(paths.size());
      int i = 0;
      for (String path : paths) {
        String at = "match.paths[" + i + "]";
        require(path, at);
        try {
          compiled.add(PathPattern.compile(path));
        } catch (IllegalArgumentException e) {
          PolicyConfigException error =
              new PolicyConfigException(at, PolicyMessages.badPath(subject, e.getMessage()));
          error.initCause(e);
          throw error;
        }
        copy.add(path);
        i++;
      }
      this.paths = List.copyOf(copy);
      this.patterns = List.copyOf(compiled);
      return this;
    }

    /**
     * The identity chain ({@code by}); the first identity a request has is used, and a request
     * with none of them is counted under {@code ip}. Default {@code [ip]}.
     *
     * @throws PolicyConfigException (path {@code by} or {@code by[i]}) when the chain is empty,
     *     lists an identity twice, or lists anything after {@code ip} or {@code global}, which
     *     every request has
     */
    public Builder by(List<IdentitySpec> by) {
      require(by, "by");
      if (by.isEmpty()) {
        throw new PolicyConfigException("by", PolicyMessages.noIdentities(subject));
      }
      for (int i = 0; i < by.size(); i++) {
        IdentitySpec spec = by.get(i);
        require(spec, "by[" + i + "]");
        for (int j = 0; j < i; j++) {
          IdentitySpec earlier = by.get(j);
          if (earlier.equals(spec)) {
            throw new PolicyConfigException(
                "by[" + i + "]", PolicyMessages.duplicateIdentity(subject, spec));
          }
          if (earlier.kind() == IdentityKind.IP || earlier.kind() == IdentityKind.GLOBAL) {
            throw new PolicyConfigException(
                "by[" + i + "]", PolicyMessages.unreachableIdentity(subject, spec, earlier));
          }
        }
      }
      this.by = List.copyOf(by);
      return this;
    }

    /**
     * The limits ({@code limits}), in file order; a request consumes from all or none. Required.
     *
     * @throws PolicyConfigException (path {@code limits} or {@code limits[i]}) when the list is
     *     empty or lists the same limit twice
     */
    public Builder limits(List<Limit> limits) {
      require(limits, "limits");
      if (limits.isEmpty()) {
        throw new PolicyConfigException("limits", PolicyMessages.noLimits(subject));
      }
      for (int i = 0; i < limits.size(); i++) {
        Limit limit = limits.get(i);
        require(limit, "limits[" + i + "]");
        for (int j = 0; j < i; j++) {
          Limit earlier = limits.get(j);
          if (earlier.quantity() == limit.quantity()
              && earlier.periodNanos() == limit.periodNanos()
              && earlier.burst() == limit.burst()) {
            throw new PolicyConfigException(
                "limits[" + i + "]", PolicyMessages.duplicateLimit(subject, limit));
          }
        }
      }
      this.limits = List.copyOf(limits);
      return this;
    }

    /** The algorithm ({@code algorithm}); default {@link Algorithm#GCRA}. */
    public Builder algorithm(Algorithm algorithm) {
      this.algorithm = require(algorithm, "algorithm");
      return this;
    }

    /**
     * Tokens each request consumes ({@code cost}); default 1.
     *
     * @throws PolicyConfigException (path {@code cost}) when {@code cost < 1}
     */
    public Builder cost(long cost) {
      if (cost < 1) {
        throw new PolicyConfigException("cost", PolicyMessages.costTooSmall(subject, cost));
      }
      this.cost = cost;
      return this;
    }

    /** Enforce (default) or shadow ({@code mode}). */
    public Builder mode(Mode mode) {
      this.mode = require(mode, "mode");
      return this;
    }

    /**
     * Enforces the policy for this share of identities only ({@code rollout}), in basis points
     * (10,000 = 100%, the default); the rest are decided in shadow.
     *
     * @throws PolicyConfigException (path {@code rollout}) outside 0 … 10,000
     */
    public Builder rollout(int basisPoints) {
      if (basisPoints < 0 || basisPoints > Rollout.ALL) {
        throw new PolicyConfigException("rollout", PolicyMessages.badRollout(subject, basisPoints));
      }
      this.rollout = basisPoints;
      return this;
    }

    /** Overrides the store's {@code on_error} for this policy ({@code on_error}). */
    public Builder onError(OnError onError) {
      this.onError = require(onError, "on_error");
      return this;
    }

    /**
     * Only upstream responses with these statuses consume tokens ({@code count.status}); see
     * {@link Policy#count()}. Duplicates are dropped, order kept.
     *
     * @throws PolicyConfigException (path {@code count.status} or {@code count.status[i]}) when
     *     the collection is empty or holds a null
     */
    public Builder count(Collection<StatusRange> statuses) {
      require(statuses, "count.status");
      if (statuses.isEmpty()) {
        throw new PolicyConfigException("count.status", PolicyMessages.noCountStatuses(subject));
      }
      Set<StatusRange> copy = new LinkedHashSet<>();
      int i = 0;
      for (StatusRange range : statuses) {
        copy.add(require(range, "count.status[" + i + "]"));
        i++;
      }
      this.count = List.copyOf(copy);
      return this;
    }

    /** Bans identities this policy refuses ({@code penalty}); validated by {@link Penalty}. */
    public Builder penalty(Penalty penalty) {
      this.penalty = require(penalty, "penalty");
      return this;
    }

    /**
     * Caps in-flight requests per identity ({@code concurrency}).
     *
     * @throws PolicyConfigException (path {@code concurrency}) when below 1
     */
    public Builder concurrency(int concurrency) {
      if (concurrency < 1) {
        throw new PolicyConfigException("concurrency", PolicyMessages.badConcurrency(subject, concurrency));
      }
      this.concurrency = concurrency;
      return this;
    }

    /** Load-shedding priority ({@code priority}); default {@link Priority#NORMAL}. */
    public Builder priority(Priority priority) {
      this.priority = require(priority, "priority");
      return this;
    }

    /**
     * Builds the policy.
     *
     * @throws PolicyConfigException when {@code match.paths} or {@code limits} was never set, when
     *     the cost exceeds a limit's capacity (path {@code cost}), or when a
     *     {@code sliding_window} limit sets a burst or allows more than
     *     {@link SlidingWindow#MAX_QUANTITY} per window, or a limit is outside the engine's
     *     bounds ({@link Limit#boundsProblem()}) (path {@code limits[i]}), or when
     *     {@code concurrency} is combined with {@code mode: shadow} (path {@code concurrency})
     */
    public Policy build() {
      if (concurrency > 0 && mode == Mode.SHADOW) {
        throw new PolicyConfigException("concurrency", PolicyMessages.concurrencyInShadow(subject));
      }
      if (concurrency > 0 && rollout < Rollout.ALL) {
        throw new PolicyConfigException("rollout", PolicyMessages.concurrencyInRollout(subject, rollout));
      }
      if (paths == null) {
        throw new PolicyConfigException("match.paths", PolicyMessages.noPaths(subject));
      }
      if (limits == null) {
        throw new PolicyConfigException("limits", PolicyMessages.noLimits(subject));
      }
      for (int i = 0; i < limits.size(); i++) {
        Limit limit = limits.get(i);
        // The parser refuses these with a column; a limit made in code meets the same bounds here.
        String outOfBounds = limit.boundsProblem().orElse(null);
        if (outOfBounds != null) {
          throw new PolicyConfigException(
              "limits[" + i + "]", PolicyMessages.limitOutOfBounds(subject, limit, outOfBounds));
        }
        if (algorithm == Algorithm.SLIDING_WINDOW && limit.burst() != limit.quantity()) {
          throw new PolicyConfigException(
              "limits[" + i + "]", PolicyMessages.burstWithSlidingWindow(subject, limit));
        }
        if (algorithm == Algorithm.SLIDING_WINDOW && limit.quantity() > SlidingWindow.MAX_QUANTITY) {
          // The window keeps one timestamp per admitted token, so its state is capped.
          throw new PolicyConfigException("limits[" + i + "]",
              PolicyMessages.slidingWindowTooLarge(subject, limit, SlidingWindow.MAX_QUANTITY));
        }
        long capacity = algorithm == Algorithm.SLIDING_WINDOW ? limit.quantity() : limit.burst();
        if (cost > capacity) {
          throw new PolicyConfigException(
              "cost", PolicyMessages.costAboveCapacity(subject, cost, limit, capacity));
        }
      }
      return new Policy(this);
    }

    private String checkName(String name) {
      if (name == null || name.isBlank()) {
        throw new PolicyConfigException("name", PolicyMessages.blankName());
      }
      for (int i = 0; i < name.length(); i++) {
        char c = name.charAt(i);
        boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '-' || c == '_' || c == '.';
        if (!ok) {
          throw new PolicyConfigException("name", PolicyMessages.badName(name, i));
        }
      }
      if (name.length() > MAX_NAME_LENGTH) {
        throw new PolicyConfigException("name", PolicyMessages.nameTooLong(name, MAX_NAME_LENGTH));
      }
      return name;
    }

    private <T> T require(T value, String path) {
      if (value == null) {
        throw new PolicyConfigException(path, PolicyMessages.nullValue(subject, path));
      }
      return value;
    }
  }
}
