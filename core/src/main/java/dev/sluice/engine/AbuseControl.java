package dev.sluice.engine;

import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.policy.OnError;
import dev.sluice.policy.Penalty;
import dev.sluice.store.Ban;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Abuse control once every policy's store answer is in (SPEC §7; the protocol is in the {@link
 * Engine} class comment): penalties for refused requests, concurrency permits and count
 * reservations for admitted ones, and the {@link Settlement} a forwarded request holds.
 *
 * <p>Rate limits are decided before the permit is taken so that a request the limits refuse
 * never holds (and never has to return) a permit, and the common path stays one round trip; the
 * price is one refund when the cap is full. A request that is not forwarded (any outcome but
 * ALLOWED) gets its count reservations refunded here at once: it never reached the upstream.
 *
 * <p>Store keys: offences and permits are keyed {@code <policy>|<identity key>} (policy names
 * never contain {@code |}); a shared store should add its own prefix and hash tag.
 *
 * <p>Offence memory: offences are counted per policy and identity over a sliding window of
 * {@code max(24h, penalty.max)}: a day without offences (or a whole maximal ban) forgives.
 */
final class AbuseControl {
  /** The shortest offence memory; see the class comment. */
  static final Duration MIN_OFFENCE_WINDOW = Duration.ofHours(24);

  private final DecisionSteps steps;
  private final long permitLeaseNanos;

  AbuseControl(DecisionSteps steps, long permitLeaseNanos) {
    this.steps = steps;
    this.permitLeaseNanos = permitLeaseNanos;
  }

  /** Penalties, permits and count reservations once every policy's store answer is in. */
  CompletionStage<Decision> afterConsume(
      ClientAddress client, AppliedPolicy[] matched, Identity[] ids, PolicyDecision[] decisions) {
    int count = decisions.length;
    boolean refused = false;
    for (PolicyDecision d : decisions) {
      refused |= !d.shadow() && !d.allowed();
    }
    if (refused) {
      refundReservations(matched, ids, decisions, null);
      List<CompletableFuture<Void>> penalties = null;
      for (int i = 0; i < count; i++) {
        AppliedPolicy a = matched[i];
        PolicyDecision d = decisions[i];
        // A trip is a refusal by the policy's own limit; shadow policies never ban.
        if (a.policy.penalty().isPresent() && !d.shadow()
            && d.consumption() != null && !d.allowed()) {
          if (penalties == null) {
            penalties = new ArrayList<>();
          }
          int slot = i;
          penalties.add(penalize(a, ids[i], d).thenAccept(banned -> {
            if (banned != null) {
              decisions[slot] = banned;
            }
          }).toCompletableFuture());
        }
      }
      if (penalties == null) {
        return CompletableFuture.completedFuture(Decision.ofArray(client, decisions));
      }
      return CompletableFuture.allOf(penalties.toArray(new CompletableFuture<?>[0]))
          .thenApply(v -> Decision.ofArray(client, decisions));
    }
    // Admitted: take the permits of concurrency policies.
    List<CompletableFuture<Boolean>> permits = null;
    String[] permitKeys = new String[count];
    for (int i = 0; i < count; i++) {
      AppliedPolicy a = matched[i];
      if (a.policy.concurrency() > 0) {
        if (permits == null) {
          permits = new ArrayList<>();
        }
        permitKeys[i] = a.policy.name() + "|" + ids[i].key();
        permits.add(acquire(permitKeys[i], a).toCompletableFuture());
      }
    }
    if (permits == null) {
      return CompletableFuture.completedFuture(
          Decision.settled(client, decisions, settlement(matched, ids, decisions, List.of())));
    }
    List<CompletableFuture<Boolean>> taken = permits;
    return CompletableFuture.allOf(taken.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
      List<String> held = new ArrayList<>();
      boolean[] refunded = new boolean[count];
      boolean full = false;
      int k = 0;
      for (int i = 0; i < count; i++) {
        if (permitKeys[i] == null) {
          continue;
        }
        Boolean answer = taken.get(k++).join();
        if (answer == null) {
          // The store failed and the policy's on_error is allow: proceed without a permit.
          continue;
        }
        if (answer) {
          held.add(permitKeys[i]);
        } else {
          full = true;
          PolicyDecision d = decisions[i];
          if (d.consumption() != null && d.consumption().allowed()) {
            AppliedPolicy a = matched[i];
            Settlement.refund(steps.store, a.bucketKey(ids[i]), a.spec, a.policy.cost());
            refunded[i] = true;
          }
          decisions[i] = PolicyDecision.concurrencyLimited(matched[i].policy, ids[i], d.consumption());
        }
      }
      if (full) {
        for (String key : held) {
          releasePermit(key);
        }
        refundReservations(matched, ids, decisions, refunded);
        return Decision.ofArray(client, decisions);
      }
      return Decision.settled(client, decisions, settlement(matched, ids, decisions, held));
    });
  }

  /**
   * One permit: completes with true (taken) or false (cap full), or null when the store failed
   * under {@code on_error: allow}. Never completes exceptionally.
   */
  private CompletionStage<Boolean> acquire(String key, AppliedPolicy a) {
    CompletionStage<Boolean> stage;
    try {
      stage = steps.bounded(steps.store.acquirePermit(key, a.policy.concurrency(), permitLeaseNanos));
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    return stage.handle((acquired, error) -> {
      if (error == null && acquired != null) {
        return acquired;
      }
      // A store that cannot count permits follows on_error: allow proceeds uncapped, deny
      // refuses as if the cap were full (a 429 with Retry-After: 1 the client can retry).
      return a.onError == OnError.ALLOW ? null : Boolean.FALSE;
    });
  }

  private void releasePermit(String key) {
    try {
      steps.store.releasePermit(key);
    } catch (RuntimeException e) {
      // the lease ends it
    }
  }

  /** Refunds the count reservations of a request that is not forwarded. */
  private void refundReservations(
      AppliedPolicy[] matched, Identity[] ids, PolicyDecision[] decisions, boolean[] alreadyRefunded) {
    for (int i = 0; i < decisions.length; i++) {
      AppliedPolicy a = matched[i];
      PolicyDecision d = decisions[i];
      if (!a.policy.count().isEmpty() && d.consumption() != null && d.consumption().allowed()
          && (alreadyRefunded == null || !alreadyRefunded[i])) {
        Settlement.refund(steps.store, a.bucketKey(ids[i]), a.spec, a.policy.cost());
      }
    }
  }

  /** What a forwarded request holds; null when nothing (no extra object for plain policies). */
  private Settlement settlement(
      AppliedPolicy[] matched, Identity[] ids, PolicyDecision[] decisions, List<String> permits) {
    List<Settlement.Reservation> reservations = null;
    for (int i = 0; i < decisions.length; i++) {
      AppliedPolicy a = matched[i];
      PolicyDecision d = decisions[i];
      if (!a.policy.count().isEmpty() && d.consumption() != null && d.consumption().allowed()) {
        if (reservations == null) {
          reservations = new ArrayList<>();
        }
        reservations.add(new Settlement.Reservation(a.policy, a.bucketKey(ids[i]), a.spec));
      }
    }
    if (reservations == null && permits.isEmpty()) {
      return null;
    }
    return new Settlement(steps.store, reservations == null ? List.of() : reservations, permits);
  }

  /**
   * Records the offence and bans the identity; completes with the banned decision, or null when
   * the store could not (the request then stays an ordinary 429).
   */
  private CompletionStage<PolicyDecision> penalize(AppliedPolicy a, Identity identity, PolicyDecision tripped) {
    Penalty penalty = a.policy.penalty().orElseThrow();
    long window = Math.max(MIN_OFFENCE_WINDOW.toNanos(), penalty.max().toNanos());
    String scope = penalty.scope() == Penalty.Scope.ALL ? Ban.ALL_POLICIES : a.policy.name();
    CompletionStage<PolicyDecision> stage;
    try {
      stage = steps.bounded(steps.store.recordOffence(BanLifter.offenceKey(a.policy.name(), identity.key()), window))
          .thenCompose(n -> {
            Duration length = penalty.banFor(n);
            Ban ban = Ban.penalty(a.policy.name(), scope, identity.key(),
                steps.wallClock.millis() + length.toMillis(),
                EngineMessages.banReason(a.policy, tripped.itemName(), n, length));
            return steps.bounded(steps.bans.put(ban))
                .thenApply(v -> PolicyDecision.banned(
                    a.policy, identity, tripped.consumption(), ban, length.toNanos()));
          });
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(null);
    }
    return stage.exceptionally(e -> null);
  }
}
