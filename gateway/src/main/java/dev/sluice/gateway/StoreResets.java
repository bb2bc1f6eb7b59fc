package dev.sluice.gateway;

import dev.sluice.engine.BanList;
import dev.sluice.store.Ban;
import dev.sluice.store.Store;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices, on the periodic ban refresh, that the store lost its state behind the gateway's back
 * ({@link Store#resets()}: Redis {@code FLUSHALL}, a restart without persistence, a failover to
 * an empty replica), says so once at WARN, and writes back the bans this instance still holds in
 * its replica — operators' bans and penalty bans alike, with their original expiry.
 *
 * <p>What cannot come back: offence counts (the next offence counts as the first, so its ban is
 * the shortest), buckets (every identity starts full), and bans this instance had not yet seen
 * (written elsewhere less than one refresh before the loss). A ban lifted on another instance
 * less than one refresh before the loss may come back; lift it again. Each instance that notices
 * re-publishes; writing the same ban twice is harmless (same id, same expiry).
 *
 * <p>Cost: one copy of the replica's bans per refresh while it holds any (none otherwise), and
 * nothing on the decision path. Called from the refresh chain only, which never overlaps itself.
 */
final class StoreResets {
  private static final Logger log = LoggerFactory.getLogger(StoreResets.class);

  private final Store store;
  private final InstantSource wallClock;
  private volatile long seen;
  /** Bans still to write back after a reset (kept across refreshes until written). */
  private volatile List<Ban> pending = List.of();

  StoreResets(Store store, InstantSource wallClock) {
    this.store = store;
    this.wallClock = wallClock;
    this.seen = store.resets();
  }

  /** The bans to keep in case the coming refresh finds the store erased. */
  List<Ban> held(BanList bans) {
    return bans.isEmpty() ? List.of() : bans.bans();
  }

  /**
   * After a successful refresh: when the store reset since the last call, logs it once and
   * re-publishes the still-active bans of {@code held} through {@code bans} (store and replica).
   * A re-publication that fails is tried again after the next refresh. Never fails.
   */
  CompletionStage<Void> afterRefresh(BanList bans, List<Ban> held) {
    long resets = store.resets();
    if (resets != seen) {
      seen = resets;
      Map<String, Ban> union = new LinkedHashMap<>();
      pending.forEach(b -> union.put(b.id(), b));
      held.forEach(b -> union.put(b.id(), b));
      pending = List.copyOf(union.values());
      log.warn("the store lost its state (its generation changed: FLUSHALL, a restart without persistence or a"
          + " failover to an empty replica): every bucket, offence count and ban in it is gone; re-publishing the"
          + " {} ban(s) this instance holds (see sluice_store_resets_total)", pending.size());
    }
    if (pending.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    List<Ban> writing = pending;
    long now = wallClock.millis();
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    for (Ban ban : writing) {
      if (ban.activeAt(now)) {
        writes.add(bans.put(ban).toCompletableFuture());
      }
    }
    return CompletableFuture.allOf(writes.toArray(new CompletableFuture<?>[0])).handle((ok, error) -> {
      if (error == null) {
        if (pending == writing) {
          pending = List.of();
        }
      } else {
        log.warn("re-publishing {} ban(s) after the store lost its state failed; retrying after the next refresh:"
            + " {}", writing.size(), error.toString());
      }
      return null;
    });
  }
}
