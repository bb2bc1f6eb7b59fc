package dev.sluice.gateway.live;

import java.util.ArrayList;
import java.util.List;

/**
 * The latest audit-worthy decisions (limited, shadow-limited, blocked), a fixed ring: the
 * dashboard's "latest audit events" without reading the audit file. Thread-safe (a short lock).
 */
final class RecentEvents {
  static final int DEFAULT_SIZE = 50;

  /** One event, with the audit log's fields (the identity already hashed where secret). */
  record Event(long timeMillis, String policy, String outcome, String kind, String identity, String clientIp,
      String method, String path) {}

  private final Event[] ring;
  private int next;
  private int size;

  RecentEvents(int capacity) {
    this.ring = new Event[capacity];
  }

  synchronized void add(Event event) {
    ring[next] = event;
    next = (next + 1) % ring.length;
    size = Math.min(size + 1, ring.length);
  }

  /** Newest first. */
  synchronized List<Event> snapshot() {
    List<Event> out = new ArrayList<>(size);
    for (int i = 1; i <= size; i++) {
      out.add(ring[Math.floorMod(next - i, ring.length)]);
    }
    return out;
  }
}
