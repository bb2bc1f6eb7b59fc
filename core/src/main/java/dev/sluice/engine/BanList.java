package dev.sluice.engine;

import dev.sluice.store.Ban;
import dev.sluice.store.Store;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 * <p>Thread-safe. Reads are one volatile read of an immutable map; writes copy it (bans are rare).
 * A refresh that was already reading the store when a local write happened re-applies that write,
 * so a refresh never loses a ban written locally meanwhile.
 */
public final class BanList {
  private static final Ban[] NO_BANS = new Ban[0];

  private final Store store;
  private final InstantSource wallClock;
  private final Object lock = new Object();
  /** Identity key → bans on it (one per scope). Immutable; replaced whole. */
  private volatile Map<String, Ban[]> byIdentity = Map.of();
  private Map<String, Ban> byId = new LinkedHashMap<>();
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
          Map<String, Ban> fresh = new LinkedHashMap<>();
          for (Ban ban : list) {
            fresh.put(ban.id(), ban);
          }
          for (Op op : recent) {
            if (op.sequence > start) {
              apply(fresh, op);
            }
          }
          byId = fresh;
          publish();
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
      Map<String, Ban> next = new LinkedHashMap<>(byId);
      apply(next, numbered);
      // Expired bans go whenever the replica changes, so it does not grow with old bans.
      long now = wallClock.millis();
      next.values().removeIf(b -> !b.activeAt(now));
      byId = next;
      publish();
    }
  }

  private static void apply(Map<String, Ban> byId, Op op) {
    if (op.put != null) {
      byId.put(op.put.id(), op.put);
    } else {
      byId.remove(op.removedId);
    }
  }

  /** Rebuilds the lookup map from {@code byId}; caller holds the lock. */
  private void publish() {
    Map<String, List<Ban>> grouped = new HashMap<>();
    for (Ban ban : byId.values()) {
      grouped.computeIfAbsent(ban.identity(), k -> new ArrayList<>()).add(ban);
    }
    Map<String, Ban[]> next = new HashMap<>();
    grouped.forEach((identity, bans) -> next.put(identity, bans.toArray(NO_BANS)));
    byIdentity = Map.copyOf(next);
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
