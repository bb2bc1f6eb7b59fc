package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The abuse-control SPI defaults, {@link Ban}, and the memory store's bounds on its new state. */
class StoreAbuseSpiTest {

  /** A store written before the abuse-control methods existed. */
  static final class OldStore implements Store {
    @Override
    public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
      return CompletableFuture.failedFuture(new StoreException("unused"));
    }

    @Override
    public CompletionStage<Void> ping() {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {}
  }

  private static Throwable failure(CompletionStage<?> stage) {
    try {
      stage.toCompletableFuture().get();
      throw new AssertionError("expected a failed stage");
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void defaults_newMethodsOnAnOldStore_failWithNotSupported() {
    Store old = new OldStore();
    String name = OldStore.class.getName();
    BucketKey key = new BucketKey("p", "ip:1");
    BucketSpec spec = StoreContractTest.gcra("1/minute");

    assertThat(failure(old.refund(key, spec, 1))).isInstanceOf(StoreException.class)
        .hasMessage("refund is not supported by " + name);
    assertThat(failure(old.recordOffence("k", 1))).hasMessage("recordOffence is not supported by " + name);
    assertThat(failure(old.putBan(Ban.of("p", "ip:1", 1, "r")))).hasMessage("putBan is not supported by " + name);
    assertThat(failure(old.removeBan("x"))).hasMessage("removeBan is not supported by " + name);
    assertThat(failure(old.listBans())).hasMessage("listBans is not supported by " + name);
    assertThat(failure(old.acquirePermit("k", 1, 1))).hasMessage("acquirePermit is not supported by " + name);
    assertThat(failure(old.releasePermit("k"))).hasMessage("releasePermit is not supported by " + name);
  }

  @Test
  void ban_id_isStableShortAndScopeSensitive() {
    String id = Ban.idOf("login", "ip:192.0.2.1");

    assertThat(id).hasSize(16).matches("[0-9a-f]{16}");
    assertThat(Ban.idOf("login", "ip:192.0.2.1")).isEqualTo(id);
    assertThat(Ban.idOf("*", "ip:192.0.2.1")).isNotEqualTo(id);
    assertThat(Ban.idOf("login", "ip:192.0.2.2")).isNotEqualTo(id);
    assertThat(Ban.of("login", "ip:192.0.2.1", 5, "r").id()).isEqualTo(id);
  }

  @Test
  void ban_wrongIdOrBlankParts_areRejected() {
    String expected = Ban.idOf("login", "ip:1");
    assertThatThrownBy(() -> new Ban("0000000000000000", "login", "ip:1", 5, "r"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ban id \"0000000000000000\" does not match its scope and identity; expected \""
            + expected + "\"");
    assertThatThrownBy(() -> Ban.of(" ", "ip:1", 5, "r"))
        .hasMessage("a ban needs a scope (a policy name or \"*\") and an identity, got scope \" \" and"
            + " identity \"ip:1\"");
  }

  @Test
  void ban_coversAndActive() {
    Ban policy = Ban.of("login", "ip:1", 1_000, "r");
    Ban all = Ban.of(Ban.ALL_POLICIES, "ip:1", 1_000, "r");

    assertThat(policy.covers("login")).isTrue();
    assertThat(policy.covers("api")).isFalse();
    assertThat(all.covers("api")).isTrue();
    assertThat(policy.activeAt(999)).isTrue();
    assertThat(policy.activeAt(1_000)).isFalse();
  }

  @Test
  void memoryStore_offenceRecords_fullShare_refusesNewKeysAndKeepsEveryLiveRecord() {
    ManualClock clock = new ManualClock();
    MemoryStore store = new MemoryStore(clock, 10, InstantSource.fixed(Instant.EPOCH));
    long day = Duration.ofDays(1).toNanos();
    for (int i = 0; i < 10; i++) {
      store.recordOffence("login|k" + i, day);
      clock.advance(1);
    }

    assertThat(failure(store.recordOffence("login|new", day)))
        .isInstanceOf(PenaltyRefusedException.class)
        .hasMessage("policy \"login\" already holds its share of 10 live offence records; nothing is"
            + " evicted to make room, so this one is not recorded");
    assertThat(store.penaltiesRefused()).isOne();
    assertThat(store.recordOffence("login|k0", day).toCompletableFuture().join())
        .as("the oldest record was not evicted").isEqualTo(2);
    clock.advance(day); // every record expired: room again, taken from the head in expiry order
    assertThat(store.recordOffence("login|new", day).toCompletableFuture().join()).isEqualTo(1);
  }

  @Test
  void memoryStore_offenceRecords_sharesPerPolicy_floodOfOneLeavesTheOtherAlone() {
    ManualClock clock = new ManualClock();
    MemoryStore store = new MemoryStore(clock, 10, InstantSource.fixed(Instant.EPOCH));
    store.usePolicies(List.of("login", "search"));
    long day = Duration.ofDays(1).toNanos();
    store.recordOffence("login|ip:victim", day);
    for (int i = 0; i < 100; i++) {
      store.recordOffence("search|api_key:" + i, day);
    }

    assertThat(store.recordOffence("login|ip:victim", day).toCompletableFuture().join()).isEqualTo(2);
    assertThat(store.recordOffence("login|ip:other", day).toCompletableFuture().join()).isEqualTo(1);
    assertThat(store.penaltiesRefused()).isEqualTo(95);
  }

  @Test
  void memoryStore_bans_penaltyShareFull_refusesTheNewBanAndEvictsNothing() {
    MemoryStore store = new MemoryStore(new ManualClock(), 4, InstantSource.fixed(Instant.ofEpochMilli(0)));
    store.usePolicies(List.of("login", "search"));
    store.putBan(Ban.of("*", "ip:operator", 60_000, "operator"));
    store.putBan(Ban.penalty("login", "login", "ip:victim", 1_000, "r"));
    for (int i = 0; i < 5; i++) {
      store.putBan(Ban.penalty("search", "*", "api_key:" + i, 1_000_000 + i, "r"));
    }

    List<Ban> bans = store.listBans().toCompletableFuture().join();
    assertThat(bans).extracting(Ban::identity)
        .containsExactlyInAnyOrder("ip:operator", "ip:victim", "api_key:0", "api_key:1");
    assertThat(store.penaltiesRefused()).isEqualTo(3);
    assertThat(failure(store.putBan(Ban.penalty("search", "*", "api_key:9", 5_000, "r"))))
        .isInstanceOf(PenaltyRefusedException.class)
        .hasMessage("policy \"search\" already holds its share of 2 live penalty bans; nothing is"
            + " evicted to make room, so this one is not recorded");
  }

  @Test
  void memoryStore_bans_operatorBansBeyondTheBound_areRefusedNotEvicted() {
    MemoryStore store = new MemoryStore(new ManualClock(), 2, InstantSource.fixed(Instant.ofEpochMilli(0)));
    store.putBan(Ban.of("*", "ip:1", 1_000, "r"));
    store.putBan(Ban.of("*", "ip:2", 2_000, "r"));

    assertThat(failure(store.putBan(Ban.of("*", "ip:3", 9_000, "r"))))
        .isInstanceOf(StoreException.class)
        .hasMessage("the ban table already holds 2 operator bans, its bound (store.max_keys); remove"
            + " some, or block a CIDR instead of banning addresses one by one");
    assertThat(store.listBans().toCompletableFuture().join()).extracting(Ban::identity)
        .containsExactlyInAnyOrder("ip:1", "ip:2");
    store.putBan(Ban.of("*", "ip:1", 5_000, "replaced"));
    assertThat(store.listBans().toCompletableFuture().join()).hasSize(2);
  }

  @Test
  void memoryStore_penaltyBanOverALiveOperatorBan_keepsTheOperatorBan() {
    MemoryStore store = new MemoryStore(new ManualClock(), 10, InstantSource.fixed(Instant.ofEpochMilli(0)));
    Ban operator = Ban.of("login", "ip:1", 1_800_000, "operator");
    store.putBan(operator);
    store.putBan(Ban.penalty("login", "login", "ip:1", 900_000, "offence 1"));

    assertThat(store.listBans().toCompletableFuture().join()).containsExactly(operator);
    Ban later = Ban.of("login", "ip:1", 60_000, "shortened by the operator");
    store.putBan(later);
    assertThat(store.listBans().toCompletableFuture().join()).containsExactly(later);
  }

  @Test
  void memoryStore_permitsReleasedToZero_leaveNoKey() {
    MemoryStore store = new MemoryStore(new ManualClock());
    store.acquirePermit("k", 2, 1_000_000);
    store.acquirePermit("k", 2, 1_000_000);
    assertThat(store.permitsHeld("k")).isEqualTo(2);

    store.releasePermit("k");
    store.releasePermit("k");
    store.releasePermit("k");

    assertThat(store.permitKeys()).isZero();
    assertThat(store.permitsHeld("k")).isZero();
  }
}
