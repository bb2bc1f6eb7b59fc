package dev.sluice.engine;

import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.store.Ban;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Store;
import dev.sluice.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Lifts a ban for real (an operator's {@code DELETE /v1/bans/{id}}): besides the ban itself it
 * forgets the banned identity's buckets under the ban's policy (every policy for scope
 * {@code all}) and, unless asked to keep them, its offences there.
 *
 * <p>Why: a penalty ban is earned by emptying a bucket. Lifting only the ban leaves the bucket
 * empty and the offence counted, so the identity's very next request (even a correct login) is
 * refused again, which is a new offence, banned for twice as long. With
 * {@code keepOffences} the buckets are still forgotten (the next request passes) but the offence
 * count stays, so the next trip escalates as if the ban had run its course.
 *
 * <p>Order: buckets and offences are forgotten first and the ban removed last, so a request
 * arriving in between is still refused by the ban (which consumes nothing) rather than by the
 * emptied bucket (which would ban it again). Other instances see the ban go at their next
 * replica refresh. Thread-safe; every call returns a stage at once.
 */
public final class BanLifter {
  private final BanList bans;
  private final Store store;

  /**
   * @param bans the replica the ban is removed from (and through it, the store)
   * @param store where the buckets and offences are forgotten
   */
  public BanLifter(BanList bans, Store store) {
    this.bans = Objects.requireNonNull(bans, "bans");
    this.store = Objects.requireNonNull(store, "store");
  }

  /**
   * The store key of an identity's offences under a policy: {@code <policy>|<identity key>}
   * (policy names never contain {@code |}). The engine records offences under it.
   */
  static String offenceKey(String policy, String identityKey) {
    return policy + "|" + identityKey;
  }

  /**
   * Lifts the ban {@code id}.
   *
   * @param policies the policies in force: which buckets the ban's scope covers and their limits
   * @param keepOffences keep the identity's offence count (the next trip escalates); the buckets
   *     are forgotten either way
   * @return the ban that was lifted, or empty when no unexpired ban has that id; fails with the
   *     store's {@link StoreException} (then the ban may still hold: retry)
   */
  public CompletionStage<Optional<Ban>> lift(String id, PolicySet policies, boolean keepOffences) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(policies, "policies");
    return find(id).thenCompose(found -> {
      if (found.isEmpty()) {
        // Not known here: remove by id anyway (a ban listed elsewhere a moment ago), state untouched.
        return call(() -> bans.remove(id)).thenApply(removed -> Optional.<Ban>empty());
      }
      Ban ban = found.get();
      List<CompletableFuture<Void>> forgetting = new ArrayList<>();
      for (Policy policy : covered(ban, policies)) {
        BucketSpec spec = new BucketSpec(policy.algorithm(), policy.limits());
        forgetting.add(call(() -> store.forgetBucket(new BucketKey(policy.name(), ban.identity()), spec))
            .toCompletableFuture());
        if (!keepOffences) {
          forgetting.add(call(() -> store.forgetOffences(offenceKey(policy.name(), ban.identity())))
              .toCompletableFuture());
        }
      }
      return CompletableFuture.allOf(forgetting.toArray(new CompletableFuture<?>[0]))
          .thenCompose(v -> call(() -> bans.remove(id)))
          .thenApply(removed -> removed ? Optional.of(ban) : Optional.<Ban>empty());
    });
  }

  /** The ban from the replica, or else from the store (another instance's ban not yet replicated). */
  private CompletionStage<Optional<Ban>> find(String id) {
    Optional<Ban> held = bans.bans().stream().filter(b -> b.id().equals(id)).findFirst();
    if (held.isPresent()) {
      return CompletableFuture.completedFuture(held);
    }
    return call(store::listBans).thenApply(list -> list.stream().filter(b -> b.id().equals(id)).findFirst());
  }

  /** The policies whose buckets the ban's scope covers (none when its policy no longer exists). */
  private static List<Policy> covered(Ban ban, PolicySet policies) {
    List<Policy> all = new ArrayList<>(policies.policies());
    policies.defaults().ifPresent(all::add);
    if (Ban.ALL_POLICIES.equals(ban.scope())) {
      return all;
    }
    return all.stream().filter(p -> p.name().equals(ban.scope())).toList();
  }

  private static <T> CompletionStage<T> call(java.util.function.Supplier<CompletionStage<T>> call) {
    try {
      CompletionStage<T> stage = call.get();
      return stage != null ? stage : CompletableFuture.failedFuture(new StoreException(EngineMessages.nullStage()));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
