package dev.sluice.engine;

import dev.sluice.store.Ban;
import dev.sluice.store.Store;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Arrays;
import java.util.Comparator;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The engine's local replica of the store's bans, so checking a request against them costs no
 * store call (SPEC §7: bans live in the store, shared by all instances).
 *
 * <p>Bans written through this object ({@link #put}, {@link #remove}, and the engine's penalties)
 * reach the replica at once, so a single instance — and the memory store — is always current.
 * Bans written by other instances arrive with {@link #refresh()}, which the gateway calls on a
 * schedule (every 250 ms); until then another instance's new ban is not yet seen here. Share one
 * {@code BanList} between the engines of successive policy reloads so the replica survives them.
 *
 * <p>Thread-safe. Reads are one lookup in a concurrent map of identity → bans; a local write
 * changes only its identity's entry (O(log n) with the expiry index, never a copy of the replica,
 * so a flood of penalty bans costs no more per ban as the replica grows); expired bans leave in
 * expiry order. A refresh rebuilds the replica from the store's list. A refresh that was already
 * reading the store when a local write happened re-applies that write, so a refresh never loses a
 * ban written locally meanwhile. A penalty ban never replaces a live operator ban with the same id
 * ({@link Ban#mayReplace}), as in the stores.
 */
public final class BanList {
  private static final Ban[] NO_BANS = new Ban[0];

  private final Store store;
  private final InstantSource wallClock;
  private final Object lock = new Object();
  private static final Comparator<Ban> BY_EXPIRY =
      Comparator.comparingLong(Ban::expiresAtEpochMillis).thenComparing(Ban::id);

  /** Identity key → bans on it (one per scope); each array immutable, replaced per identity. */
  private volatile ConcurrentHashMap<String, Ban[]> byIdentity = new ConcurrentHashMap<>();
  // Under the lock:
  private Map<String, Ban> byId = new HashMap<>();
  private TreeSet<Ban> byExpiry = new TreeSet<>(BY_EXPIRY);
  private long sequence;
  private int refreshing;
  private final List<Op> recent = new ArrayList<>();

  private record Op(long sequence, Ban put, String removedId) {}

  /**
   * @param store where bans live
   * @param wallClock compared with {@link Ban#expiresAtEpochMillis()}
   */
  public BanList(Store store, InstantSource wallClock) {
    this.store = Objects.requireNonNull(store, "store");
    this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
  }

  /** Whether the replica holds no ban at all (the engine then skips ban checks entirely). */
  public boolean isEmpty() {
    return byIdentity.isEmpty();
  }

  /** The unexpired bans of the replica. */
  public List<Ban> bans() {
    long now = wallClock.millis();
    List<Ban> live = new ArrayList<>();
    synchronized (lock) {
      for (Ban ban : byId.values()) {
        if (ban.activeAt(now)) {
          live.add(ban);
        }
      }
    }
    return List.copyOf(live);
  }

  /**
   * Replaces the replica with the store's bans. Completes exceptionally with the store's failure
   * (the replica is then kept as it was).
   */
  public CompletionStage<Void> refresh() {
    long start;
    synchronized (lock) {
      start = sequence;
      refreshing++;
    }
    CompletionStage<List<Ban>> listed;
    try {
      listed = store.listBans();
    } catch (RuntimeException e) {
      listed = CompletableFuture.failedFuture(e);
    }
    return listed.handle((list, error) -> {
      synchronized (lock) {
        refreshing--;
        if (error == null) {
          Map<String, Ban> fresh = new HashMap<>();
          for (Ban ban : list) {
            fresh.put(ban.id(), ban);
          }
          long now = wallClock.millis();
          for (Op op : recent) {
            if (op.sequence > start) {
              apply(fresh, op, now);
            }
          }
          rebuild(fresh);
        }
        if (refreshing == 0) {
          recent.clear();
        }
      }
      if (error != null) {
        throw error instanceof RuntimeException r ? r : new RuntimeException(error);
      }
      return null;
    });
  }

  /** Writes {@code ban} to the store, then to the replica. Fails like the store does. */
  public CompletionStage<Void> put(Ban ban) {
    Objects.requireNonNull(ban, "ban");
    return call(() -> store.putBan(ban)).thenRun(() -> record(new Op(0, ban, null)));
  }

  /** Removes the ban {@code id} from the store and the replica; completes with whether one was removed. */
  public CompletionStage<Boolean> remove(String id) {
    Objects.requireNonNull(id, "id");
    return call(() -> store.removeBan(id)).thenApply(removed -> {
      boolean local;
      synchronized (lock) {
        Ban held = byId.get(id);
        local = held != null && held.activeAt(wallClock.millis());
      }
      record(new Op(0, null, id));
      return removed || local;
    });
  }

  /** The first unexpired ban on {@code identityKey} that covers {@code policy}, or null. */
  Ban find(String policy, String identityKey, long nowMillis) {
    Ban[] bans = byIdentity.getOrDefault(identityKey, NO_BANS);
    for (Ban ban : bans) {
      if (ban.covers(policy) && ban.activeAt(nowMillis)) {
        return ban;
      }
    }
    return null;
  }

  private void record(Op op) {
    synchronized (lock) {
      sequence++;
      Op numbered = new Op(sequence, op.put, op.removedId);
      if (refreshing > 0) {
        recent.add(numbered);
      }
      long now = wallClock.millis();
      // Expired bans go whenever the replica changes, oldest first, so it does not grow with old bans.
      while (!byExpiry.isEmpty() && !byExpiry.first().activeAt(now)) {
        unindex(byExpiry.first());
      }
      String id = op.put != null ? op.put.id() : op.removedId;
      Ban held = byId.get(id);
      if (op.put != null && !op.put.mayReplace(held, now)) {
        return;
      }
      if (held != null) {
        unindex(held);
      }
      if (op.put != null && op.put.activeAt(now)) {
        index(op.put);
      }
    }
  }

  /** {@code op} applied to a plain id → ban map (a refresh's fresh copy). */
  private static void apply(Map<String, Ban> byId, Op op, long now) {
    if (op.put != null) {
      if (op.put.mayReplace(byId.get(op.put.id()), now)) {
        byId.put(op.put.id(), op.put);
      }
    } else {
      byId.remove(op.removedId);
    }
  }

  /** Replaces the replica with {@code fresh}; caller holds the lock. */
  private void rebuild(Map<String, Ban> fresh) {
    byId = fresh;
    byExpiry = new TreeSet<>(BY_EXPIRY);
    byExpiry.addAll(fresh.values());
    Map<String, List<Ban>> grouped = new HashMap<>();
    for (Ban ban : fresh.values()) {
      grouped.computeIfAbsent(ban.identity(), k -> new ArrayList<>()).add(ban);
    }
    ConcurrentHashMap<String, Ban[]> next = new ConcurrentHashMap<>(Math.max(16, grouped.size() * 2));
    grouped.forEach((identity, bans) -> next.put(identity, bans.toArray(NO_BANS)));
    byIdentity = next;
  }

  /** Adds {@code ban} to every index; caller holds the lock and removed any ban with its id. */
  private void index(Ban ban) {
    byId.put(ban.id(), ban);
    byExpiry.add(ban);
    byIdentity.compute(ban.identity(), (k, bans) -> {
      if (bans == null) {
        return new Ban[] {ban};
      }
      Ban[] more = Arrays.copyOf(bans, bans.length + 1);
      more[bans.length] = ban;
      return more;
    });
  }

  /** Removes {@code ban} from every index; caller holds the lock. */
  private void unindex(Ban ban) {
    byId.remove(ban.id());
    byExpiry.remove(ban);
    byIdentity.computeIfPresent(ban.identity(), (k, bans) -> {
      List<Ban> left = new ArrayList<>(bans.length);
      for (Ban b : bans) {
        if (!b.id().equals(ban.id())) {
          left.add(b);
        }
      }
      return left.isEmpty() ? null : left.toArray(NO_BANS);
    });
  }

  private static <T> CompletionStage<T> call(java.util.function.Supplier<CompletionStage<T>> call) {
    try {
      CompletionStage<T> stage = call.get();
      return stage != null ? stage : CompletableFuture.failedFuture(
          new dev.sluice.store.StoreException(EngineMessages.nullStage()));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public String toString() {
    Collection<Ban> bans = bans();
    return "BanList" + bans;
  }
}
