package dev.sluice.engine;

import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.LimitStatus;
import dev.sluice.store.Store;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Answers only when the test says so, like a remote store whose replies are in flight. */
final class PendingStore implements Store {
  final List<BucketKey> calls = new ArrayList<>();
  final List<CompletableFuture<Consumption>> answers = new ArrayList<>();

  @Override
  public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
    calls.add(key);
    CompletableFuture<Consumption> answer = new CompletableFuture<>();
    answers.add(answer);
    return answer;
  }

  void answer(int call, boolean allowed) {
    LimitStatus status = new LimitStatus(allowed ? 0 : 0, 60_000_000_000L, 60_000_000_000L);
    answers.get(call).complete(new Consumption(
        allowed, allowed ? -1 : 0, allowed ? 0 : 60_000_000_000L, Arrays.asList(status)));
  }

  @Override
  public CompletionStage<Void> ping() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void close() {}
}
