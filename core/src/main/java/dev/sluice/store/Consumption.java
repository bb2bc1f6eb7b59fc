package dev.sluice.store;

import dev.sluice.algorithm.Gcra;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of one attempt to consume tokens from a bucket, with everything the HTTP layer needs
 * (like Bucket4j's {@code ConsumptionProbe}). Immutable; equality is that of its four components.
 *
 * <p>Not a record, only so that the commonest answer, a bucket of one limit, is one small object:
 * {@link #ofOne} keeps that limit's state inline and makes its {@link LimitStatus} only when
 * someone asks for it (one answer per request on the memory store's hot path).
 *
 * <p><b>Live answers.</b> {@link Store#tryConsumeShared} may return a <em>live</em> answer instead
 * (see {@link #live()}): one object per bucket and outcome, reused by every decision of that
 * bucket with that outcome, whose {@link #allowed()} and {@link #deniedLimit()} are fixed but whose
 * {@link #retryAfterNanos()} and {@link #limits()} are read from the bucket when asked (its state
 * then, which on the deciding thread right after the decision is the state the decision left
 * unless another request of the same identity was decided in between). {@link #snapshot()} turns
 * one into an ordinary immutable answer. {@link Store#tryConsume} and {@link Store#tryConsumeNow}
 * never return live answers.
 */
public final class Consumption {
  private final boolean allowed;
  private final int deniedLimit;
  private final long retryAfterNanos;
  /** Whether this is an {@link #ofOne} answer (its one limit's state kept inline). */
  private final boolean one;
  /**
   * Every limit's state; for a one-limit answer null until first asked, then made and kept (a
   * racing second one is equal and immutable, so no lock).
   */
  private List<LimitStatus> limits;
  // The one limit of an ofOne answer.
  private final long remaining;
  private final long nanosToNextToken;
  private final long nanosToFull;
  // A live answer: the bucket it reads, the store whose clock it reads, the cost it was for.
  private final GcraCell cell;
  private final MemoryStore store;
  private final long cost;

  /**
   * @param allowed whether the tokens were consumed (from every limit) or not (from none)
   * @param deniedLimit index into the bucket's limits of the limit that denied, or -1 when allowed
   * @param retryAfterNanos when denied, nanoseconds until the same request would be admitted; else 0
   * @param limits the state of each limit after the decision, in the bucket's order (may be null
   *     only in a malformed answer of a custom store, which the engine treats as a store failure)
   */
  public Consumption(boolean allowed, int deniedLimit, long retryAfterNanos, List<LimitStatus> limits) {
    this.allowed = allowed;
    this.deniedLimit = deniedLimit;
    this.retryAfterNanos = retryAfterNanos;
    this.limits = limits;
    this.one = false;
    this.remaining = 0;
    this.nanosToNextToken = 0;
    this.nanosToFull = 0;
    this.cell = null;
    this.store = null;
    this.cost = 0;
  }

  /** A live answer of {@code cell}; see the class comment. */
  Consumption(boolean allowed, GcraCell cell, MemoryStore store, long cost) {
    this.allowed = allowed;
    this.deniedLimit = allowed ? -1 : 0;
    this.retryAfterNanos = 0;
    this.one = true;
    this.remaining = 0;
    this.nanosToNextToken = 0;
    this.nanosToFull = 0;
    this.cell = cell;
    this.store = store;
    this.cost = cost;
  }

  private Consumption(
      boolean allowed, long retryAfterNanos, long remaining, long nanosToNextToken, long nanosToFull) {
    this.allowed = allowed;
    this.deniedLimit = allowed ? -1 : 0;
    this.retryAfterNanos = retryAfterNanos;
    this.one = true;
    this.remaining = remaining;
    this.nanosToNextToken = nanosToNextToken;
    this.nanosToFull = nanosToFull;
    this.cell = null;
    this.store = null;
    this.cost = 0;
  }

  /**
   * The answer of a bucket with one limit, whose state after the decision is {@code (remaining,
   * nanosToNextToken, nanosToFull)} (see {@link LimitStatus}).
   */
  public static Consumption ofOne(
      boolean allowed, long retryAfterNanos, long remaining, long nanosToNextToken, long nanosToFull) {
    return new Consumption(allowed, retryAfterNanos, remaining, nanosToNextToken, nanosToFull);
  }

  /** Whether the tokens were consumed (from every limit) or not (from none). */
  public boolean allowed() {
    return allowed;
  }

  /** Index into the bucket's limits of the limit that denied, or -1 when allowed. */
  public int deniedLimit() {
    return deniedLimit;
  }

  /**
   * When denied, nanoseconds until the same request would be admitted; else 0. For a {@link
   * #live()} refusal: from the bucket's state when read, at least 1.
   */
  public long retryAfterNanos() {
    if (cell != null) {
      if (allowed) {
        return 0;
      }
      long now = store.now();
      return Math.max(1, Gcra.retryAfter(cell.liveTat(now), now, cost, cell.limit));
    }
    return retryAfterNanos;
  }

  /**
   * Whether this is a live answer (see the class comment): shared by every decision of its
   * bucket with its outcome, its numbers read from the bucket when asked.
   */
  public boolean live() {
    return cell != null;
  }

  /** The bucket of a live answer of {@code store} made for {@code cost}, else null. */
  GcraCell liveCell(MemoryStore store, long cost) {
    return this.store == store && this.cost == cost ? cell : null;
  }

  /** The cost a live answer was made for. */
  long liveCost() {
    return cost;
  }

  /** This answer with its numbers as they are now: itself unless {@link #live()}. */
  public Consumption snapshot() {
    if (cell == null) {
      return this;
    }
    long now = store.now();
    long tat = cell.liveTat(now);
    return ofOne(allowed, allowed ? 0 : Math.max(1, Gcra.retryAfter(tat, now, cost, cell.limit)),
        Gcra.remaining(tat, now, cell.limit), Gcra.nanosToNextToken(tat, now, cell.limit),
        Gcra.nanosToFull(tat, now));
  }

  /** The state of each limit after the decision, in the bucket's order. */
  public List<LimitStatus> limits() {
    if (cell != null) {
      return List.of(liveStatus());
    }
    List<LimitStatus> all = limits;
    if (all == null && one) {
      all = List.of(new LimitStatus(remaining, nanosToNextToken, nanosToFull));
      limits = all;
    }
    return all;
  }

  /** How many limits {@link #limits()} holds; 0 for a malformed answer without limits. */
  public int limitCount() {
    if (one) {
      return 1;
    }
    return limits == null ? 0 : limits.size();
  }

  /**
   * The state of limit {@code index} after the decision.
   *
   * @throws IndexOutOfBoundsException when there is no such limit
   */
  public LimitStatus limit(int index) {
    if (cell != null) {
      Objects.checkIndex(index, 1);
      return liveStatus();
    }
    List<LimitStatus> all = limits();
    if (all == null) {
      throw new IndexOutOfBoundsException("no limits in " + this);
    }
    return all.get(index);
  }

  private LimitStatus liveStatus() {
    long now = store.now();
    long tat = cell.liveTat(now);
    return new LimitStatus(Gcra.remaining(tat, now, cell.limit),
        Gcra.nanosToNextToken(tat, now, cell.limit), Gcra.nanosToFull(tat, now));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Consumption c
        && allowed == c.allowed
        && deniedLimit == c.deniedLimit
        && retryAfterNanos() == c.retryAfterNanos()
        && Objects.equals(limits(), c.limits());
  }

  @Override
  public int hashCode() {
    return Objects.hash(allowed, deniedLimit, retryAfterNanos(), limits());
  }

  @Override
  public String toString() {
    return "Consumption[" + (cell != null ? "live, " : "") + "allowed=" + allowed + ", deniedLimit="
        + deniedLimit + ", retryAfterNanos=" + retryAfterNanos() + ", limits=" + limits() + "]";
  }
}
