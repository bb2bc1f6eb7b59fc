package dev.sluice.gateway.decision;

import dev.sluice.engine.Decision;
import dev.sluice.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Decisions waiting for their {@code /v1/settle}: what the gateway's exchange holds between
 * forwarding a request and its end ({@code count:} reservations, {@code concurrency:} permits),
 * held here under a random ticket for at most the lease.
 *
 * <p>Settling reports the application's status ({@link Decision#onResponse(int)}: {@code count:}
 * policies keep or refund their tokens) and ends the exchange ({@link Decision#release()}: permits
 * back). A ticket is removed when settled, so a second settle finds nothing and changes nothing.
 * A ticket not settled within the lease expires on the next {@link #expire()} — run every
 * {@link #SWEEP_MILLIS} ms by the server, and on a settle that comes too late — as a gateway
 * exchange that got no upstream answer ends: permits back, {@code count:} tokens refunded.
 *
 * <p>Thread-safe.
 */
final class Tickets {
  /** How often the server looks for expired tickets. */
  static final long SWEEP_MILLIS = 1_000;

  private final Map<String, Open> open = new ConcurrentHashMap<>();
  private final Clock clock;
  private final long leaseNanos;

  private record Open(Decision decision, long deadline) {}

  /** What a settle did. */
  enum Settled {
    /** The status was applied and the decision released. */
    SETTLED,
    /** No such ticket: never issued, already settled, or expired. */
    UNKNOWN
  }

  Tickets(Clock clock, Duration lease) {
    this.clock = clock;
    this.leaseNanos = lease.toNanos();
  }

  /** Holds {@code decision} until settled or expired; returns its ticket (32 hex digits). */
  String issue(Decision decision) {
    long deadline = clock.nanoTime() + leaseNanos;
    Open entry = new Open(decision, deadline);
    ThreadLocalRandom random = ThreadLocalRandom.current();
    while (true) {
      String id = hex(random.nextLong(), random.nextLong());
      if (open.putIfAbsent(id, entry) == null) {
        return id;
      }
    }
  }

  /**
   * Settles a ticket with the application's response status. Only the caller that removes the
   * ticket applies it, so concurrent or repeated settles apply once.
   */
  Settled settle(String ticket, int status) {
    Open entry = open.remove(ticket);
    if (entry == null) {
      return Settled.UNKNOWN;
    }
    if (clock.nanoTime() - entry.deadline >= 0) {
      entry.decision.release(); // too late: it ends as an expired ticket would
      return Settled.UNKNOWN;
    }
    entry.decision.onResponse(status);
    entry.decision.release();
    return Settled.SETTLED;
  }

  /** Ends every ticket whose lease has passed; returns how many. */
  int expire() {
    long now = clock.nanoTime();
    int n = 0;
    for (Iterator<Map.Entry<String, Open>> it = open.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Open> e = it.next();
      if (now - e.getValue().deadline >= 0 && open.remove(e.getKey(), e.getValue())) {
        e.getValue().decision.release();
        n++;
      }
    }
    return n;
  }

  /** Ends every open ticket (the service stops). */
  void releaseAll() {
    for (String id : open.keySet()) {
      Open entry = open.remove(id);
      if (entry != null) {
        entry.decision.release();
      }
    }
  }

  /** Tickets open now (racy). */
  int size() {
    return open.size();
  }

  private static String hex(long a, long b) {
    char[] out = new char[32];
    for (int i = 15; i >= 0; i--) {
      out[i] = Character.forDigit((int) (a & 0xF), 16);
      a >>>= 4;
      out[16 + i] = Character.forDigit((int) (b & 0xF), 16);
      b >>>= 4;
    }
    return new String(out);
  }
}
