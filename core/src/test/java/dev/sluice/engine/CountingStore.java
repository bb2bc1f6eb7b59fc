package dev.sluice.engine;

import dev.sluice.store.Ban;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.Store;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Delegates to a store and counts every call by method name. */
final class CountingStore implements Store {
  private final Store delegate;
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

  CountingStore(Store delegate) {
    this.delegate = delegate;
  }

  int calls(String method) {
    AtomicInteger n = calls.get(method);
    return n == null ? 0 : n.get();
  }

  int totalCalls() {
    return calls.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  Map<String, Integer> snapshot() {
    Map<String, Integer> copy = new java.util.TreeMap<>();
    calls.forEach((k, v) -> copy.put(k, v.get()));
    return copy;
  }

  private void count(String method) {
    calls.computeIfAbsent(method, k -> new AtomicInteger()).incrementAndGet();
  }

  @Override
  public CompletionStage<Consumption> tryConsume(BucketKey key, BucketSpec spec, long cost) {
    count("tryConsume");
    return delegate.tryConsume(key, spec, cost);
  }

  @Override
  public CompletionStage<Void> refund(BucketKey key, BucketSpec spec, long cost) {
    count("refund");
    return delegate.refund(key, spec, cost);
  }

  @Override
  public CompletionStage<Long> recordOffence(String offenceKey, long windowNanos) {
    count("recordOffence");
    return delegate.recordOffence(offenceKey, windowNanos);
  }

  @Override
  public CompletionStage<Void> putBan(Ban ban) {
    count("putBan");
    return delegate.putBan(ban);
  }

  @Override
  public CompletionStage<Boolean> removeBan(String id) {
    count("removeBan");
    return delegate.removeBan(id);
  }

  @Override
  public CompletionStage<List<Ban>> listBans() {
    count("listBans");
    return delegate.listBans();
  }

  @Override
  public CompletionStage<Boolean> acquirePermit(String key, int max, long leaseNanos) {
    count("acquirePermit");
    return delegate.acquirePermit(key, max, leaseNanos);
  }

  @Override
  public CompletionStage<Void> releasePermit(String key) {
    count("releasePermit");
    return delegate.releasePermit(key);
  }

  @Override
  public CompletionStage<Void> ping() {
    count("ping");
    return delegate.ping();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
