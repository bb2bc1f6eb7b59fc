package dev.sluice.gateway.live;

import dev.sluice.engine.Decision;
import dev.sluice.engine.Outcome;
import dev.sluice.engine.PolicyDecision;
import dev.sluice.event.DecisionListener;
import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.request.RequestView;
import java.net.InetAddress;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the dashboard shows, fed by every decision (gateway and decision API alike, through the
 * gateway's listener chain): per policy the outcome counts per second of the last minute, the
 * identities limited / shadow-limited / blocked most over 5 and 60 minutes ({@link TopLimited}),
 * and the latest audit-worthy decisions ({@link RecentEvents}).
 *
 * <p>Bounded memory: at most {@link #MAX_POLICIES} policies are tracked (policy names come from
 * the policy file, so this only matters across many reloads; further names are counted in
 * {@link #untrackedPolicies()}), each with fixed rings, so a flood of invented identities cannot
 * grow it. Identity values are exactly what the audit log writes: the core has already replaced
 * API keys, tokens, cookies and header values by their short hash.
 *
 * <p>Thread-safe; {@link #onDecision} never blocks on I/O: rates are atomic increments, the
 * top-limited summaries take a per-policy lock for a bounded O(capacity) update, only for refused
 * or shadow-limited decisions.
 */
public final class LiveView implements DecisionListener {
  /** Counters per Space-Saving bucket (see docs/algorithms.md for how it was chosen). */
  public static final int DEFAULT_CAPACITY = 100;
  /** Distinct policy names tracked at most. */
  public static final int MAX_POLICIES = 256;
  /** The {@code policy} of a request refused by a {@code block:} rule. */
  static final String BLOCK_RULE = "";

  private final InstantSource clock;
  private final int capacity;
  private final ConcurrentHashMap<String, PolicyView> policies = new ConcurrentHashMap<>();
  private final RecentEvents recent;
  private final AtomicLong untracked = new AtomicLong();
  /** The last client address formatted (racy on purpose: any published value is a whole one). */
  private volatile IpText lastIp;

  /** A live view on {@code clock} with the default capacity. */
  public LiveView(InstantSource clock) {
    this(clock, DEFAULT_CAPACITY, RecentEvents.DEFAULT_SIZE);
  }

  LiveView(InstantSource clock, int capacity, int recentEvents) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.capacity = capacity;
    this.recent = new RecentEvents(recentEvents);
  }

  @Override
  public void onDecision(RequestView request, Decision decision, long decisionNanos) {
    if (decision.exempt()) {
      return;
    }
    long now = clock.millis();
    String clientIp = decision.client() == null ? null : ipText(decision.client().client());
    if (decision.outcome() == Outcome.FORBIDDEN) {
      PolicyView view = policy(BLOCK_RULE);
      if (view != null) {
        view.rates.record(Outcomes.BLOCKED, now);
        String key = "ip:" + clientIp;
        synchronized (view) {
          view.top.add(key, "ip", clientIp, Outcomes.BLOCKED, now);
        }
      }
      recent.add(new RecentEvents.Event(now, BLOCK_RULE, "blocked", "ip", clientIp, clientIp,
          request.method(), request.path()));
      return;
    }
    for (PolicyDecision pd : decision.policies()) {
      int outcome = Outcomes.index(pd.outcomeLabel());
      if (outcome < 0) {
        continue;
      }
      PolicyView view = policy(pd.policy().name());
      if (view == null) {
        continue;
      }
      view.rates.record(outcome, now);
      if (outcome == Outcomes.ALLOWED) {
        continue;
      }
      Identity identity = pd.identity();
      String kind;
      String value;
      synchronized (view) {
        Key key = view.key(identity);
        kind = key.kind;
        value = key.value;
        view.top.add(key.text, kind, value, outcome, now);
      }
      recent.add(new RecentEvents.Event(now, pd.policy().name(), Outcomes.NAMES[outcome], kind, value, clientIp,
          request.method(), request.path()));
    }
  }

  /**
   * The canonical text of {@code address} ({@link ClientAddress#canonicalText}): the last one is
   * kept, so a flood from one client behind a proxy (a new client address per request) formats its
   * address once, not per decision.
   */
  private String ipText(InetAddress address) {
    if (address == null) {
      return null;
    }
    IpText last = lastIp;
    if (last != null && last.address.equals(address)) {
      return last.text;
    }
    String text = ClientAddress.canonicalText(address);
    lastIp = new IpText(address, text);
    return text;
  }

  private record IpText(InetAddress address, String text) {}

  /** The top-limited key of an identity: {@code kind + ":" + value}, and its two parts. */
  private record Key(IdentitySpec spec, String kind, String value, String text) {}

  private PolicyView policy(String name) {
    PolicyView view = policies.get(name);
    if (view != null) {
      return view;
    }
    if (policies.size() >= MAX_POLICIES) {
      untracked.incrementAndGet();
      return null;
    }
    return policies.computeIfAbsent(name, n -> new PolicyView(capacity));
  }

  /** Decisions of policies beyond {@link #MAX_POLICIES} that were not tracked. */
  public long untrackedPolicies() {
    return untracked.get();
  }

  /** The wall clock this view stamps events with. */
  InstantSource clock() {
    return clock;
  }

  /** Per policy (sorted by name), the top entries of a window. */
  Map<String, TopLimited.Window> top(boolean longWindow, int limit) {
    long now = clock.millis();
    Map<String, TopLimited.Window> out = new java.util.TreeMap<>();
    policies.forEach((name, view) -> {
      TopLimited.Window window;
      synchronized (view) {
        window = view.top.top(longWindow, limit, now);
      }
      if (window.events() > 0) {
        out.put(name, window);
      }
    });
    return out;
  }

  /** Per policy (sorted by name), the per-second series of the last minute, {@code [outcome][second]}. */
  Map<String, long[][]> rates() {
    long now = clock.millis();
    Map<String, long[][]> out = new java.util.TreeMap<>();
    policies.forEach((name, view) -> out.put(name, view.rates.series(now)));
    return out;
  }

  /** The latest audit-worthy decisions, newest first. */
  List<RecentEvents.Event> recent() {
    return recent.snapshot();
  }

  /** Counters held by the top-limited summaries of every policy (for the memory-bound tests). */
  int monitored() {
    List<PolicyView> views = new ArrayList<>(policies.values());
    int n = 0;
    for (PolicyView view : views) {
      synchronized (view) {
        n += view.top.monitored();
      }
    }
    return n;
  }

  private static final class PolicyView {
    final SecondRates rates = new SecondRates();
    final TopLimited top;
    /** The key of the last identity counted (under this view's lock): a flood repeats it. */
    private Key lastKey = new Key(null, "", "", ":");

    PolicyView(int capacity) {
      this.top = new TopLimited(capacity);
    }

    /** The key of {@code identity} ({@code ":"} for none); the caller holds this view's lock. */
    Key key(Identity identity) {
      Key last = lastKey;
      IdentitySpec spec = identity == null ? null : identity.spec();
      String value = identity == null ? "" : identity.value();
      if (last.spec == spec && Objects.equals(last.value, value)) {
        return last;
      }
      String kind = spec == null ? "" : spec.toString();
      Key key = new Key(spec, kind, value, kind + ":" + value);
      lastKey = key;
      return key;
    }
  }
}
