package dev.sluice.engine;

import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.Store;
import dev.sluice.store.StoreException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Fails for the named policies, delegates the rest to another store (the memory store). */
final class FailingStore implements Store {
  private final Store delegate;
  private final Set<String> failing;
  private boolean throwing;
  private boolean returningNull;
  private boolean malformed;

  FailingStore(Store delegate, Set<String> failing) {
    this.delegate = delegate;
    this.failing = failing;
  }

  FailingStore throwing() {
    throwing = true;
    return this;
  }

  FailingStore malformed() {
    malformed = true;
    return this;
  }

  FailingStore returningNull() {
    returningNull = true;
    return this;
  }

  @Override
  public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
    if (!failing.contains(key.policy())) {
      return delegate.tryConsume(key, spec, cost);
    }
    if (throwing) {
      throw new StoreException("redis connection refused");
    }
    if (returningNull) {
      return null;
    }
    if (malformed) {
      return CompletableFuture.completedFuture(new Consumption(false, 3, 1_000, List.of()));
    }
    return CompletableFuture.failedFuture(new StoreException("redis connection refused"));
  }

  @Override
  public CompletionStage<Void> ping() {
    return CompletableFuture.failedFuture(new StoreException("redis connection refused"));
  }

  @Override
  public void close() {}
}
