package dev.sluice.analysis.replay;

import dev.sluice.analysis.logs.LogLine;
import dev.sluice.config.SluiceConfig;
import dev.sluice.engine.Decision;
import dev.sluice.engine.Engine;
import dev.sluice.engine.Outcome;
import dev.sluice.store.MemoryStore;
import java.net.InetAddress;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Decides log lines with the real {@link Engine} of a policy file: the policy set the loader built
 * for {@code sluice serve}, a fresh {@link MemoryStore} of the file's {@code max_keys}, and a
 * {@link VirtualClock} moved to each line's time before it is decided (so GCRA, sliding windows,
 * bans and offence memory see the log's own timeline). Nothing is sent anywhere.
 *
 * <p>After a decision, what the gateway would have done next is played too: an allowed request's
 * logged status settles {@code count:} policies ({@link Decision#onResponse}), and its concurrency
 * permits are held until its logged upstream time has passed on the virtual clock (released at
 * once when the log has no upstream time).
 *
 * <p>Not thread-safe: lines are decided one at a time, in log order.
 */
public final class EngineDriver {
  private final Engine engine;
  private final VirtualClock clock = new VirtualClock(0);
  private final Addresses addresses = new Addresses();
  private final ClientKeys keys;
  private final PriorityQueue<Held> held = new PriorityQueue<>();
  private long unreadableClients;

  /** A decision still holding permits or reservations, until {@code endNanos}. */
  private record Held(long endNanos, Decision decision) implements Comparable<Held> {
    @Override
    public int compareTo(Held o) {
      return Long.compare(endNanos, o.endNanos);
    }
  }

  public EngineDriver(SluiceConfig config, ClientKeys keys) {
    this.keys = keys;
    this.engine = Engine.builder()
        .policies(config.policies())
        .store(new MemoryStore(clock, config.store().maxKeys(), clock))
        .clock(clock)
        .wallClock(clock)
        .build();
  }

  /** The engine lines are decided with. */
  public Engine engine() {
    return engine;
  }

  /**
   * Decides {@code line} at its time; {@code null} when its client address is not an IP literal
   * (counted in {@link #unreadableClients()}).
   */
  public Decision decide(LogLine line) {
    InetAddress peer = addresses.parse(line.clientIp());
    if (peer == null) {
      unreadableClients++;
      return null;
    }
    long now = clock.moveTo(line.epochNanos());
    while (!held.isEmpty() && held.peek().endNanos() <= now) {
      held.poll().decision().release();
    }
    String headerName = null;
    String headerValue = null;
    String query = line.rawQuery();
    Map<String, String> identities = line.identities();
    if (line.apiKey() != null) {
      if (keys.header() != null) {
        headerName = keys.header();
        headerValue = line.apiKey();
      } else if (keys.query() != null) {
        String param = keys.query() + "=" + java.net.URLEncoder.encode(line.apiKey(), java.nio.charset.StandardCharsets.UTF_8);
        query = query == null ? param : query + "&" + param;
      }
    }
    Decision decision = engine.decide(new ReplayRequest(line.method(), line.path(), query, peer, headerName,
        headerValue, identities)).toCompletableFuture().join();
    if (decision.holdsResources()) {
      if (decision.outcome() == Outcome.ALLOWED && line.status() > 0) {
        decision.onResponse(line.status());
      }
      if (line.upstreamNanos() > 0 && decision.outcome() == Outcome.ALLOWED) {
        held.add(new Held(now + line.upstreamNanos(), decision));
      } else {
        decision.release();
      }
    }
    return decision;
  }

  /** Ends every exchange still held (end of the log). */
  public void finish() {
    while (!held.isEmpty()) {
      held.poll().decision().release();
    }
  }

  /** Lines whose client address was not an IP literal (not decided). */
  public long unreadableClients() {
    return unreadableClients;
  }

  /** Lines older than an earlier line (decided at the earlier line's time). */
  public long linesBehind() {
    return clock.linesBehind();
  }
}
