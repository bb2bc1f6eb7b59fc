package dev.sluice.store.redis;

import dev.sluice.store.StoreException;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The store's commands besides decisions, and the error handling around every command: a call
 * fails fast when the store is closed or the circuit breaker is open, and its outcome is mapped
 * to a {@link StoreException} and reported to the breaker ({@link #settle}, which the decision
 * path uses too).
 */
final class RedisCalls {

  /** For the timeout message. */
  private final Duration timeout;
  private final RedisScriptingAsyncCommands<String, String> scripting;
  private final AbuseScript abuse;
  private final CircuitBreaker breaker;
  /** The store's flag, set by {@link RedisStore#close()}. */
  private final AtomicBoolean closed;

  RedisCalls(Duration timeout, RedisScriptingAsyncCommands<String, String> scripting, AbuseScript abuse,
      CircuitBreaker breaker, AtomicBoolean closed) {
    this.timeout = timeout;
    this.scripting = scripting;
    this.abuse = abuse;
    this.breaker = breaker;
    this.closed = closed;
  }

  /** The failure of {@code what} once the store is closed. */
  StoreException closedError(String what) {
    return new StoreException("redis store is closed; cannot " + what);
  }

  /** The failure of a call that the open circuit breaker turns away. */
  StoreException breakerOpen() {
    return new StoreException(RedisMessages.circuitOpen(breaker.cause(), breaker.nanosUntilProbe()));
  }

  /** The abuse script with an integer reply. */
  CompletionStage<Long> evalAbuse(String[] keys, String[] args, String operation) {
    return evalsha(abuse.sha(), abuse.source(), ScriptOutputType.INTEGER, keys, args)
        .thenApply(reply -> abuse.integer(reply, operation));
  }

  CompletionStage<Object> evalsha(String sha, String source, ScriptOutputType type,
      String[] keys, String[] args) {
    CompletionStage<Object> first = scripting.evalsha(sha, type, keys, args);
    return first.handle((reply, error) -> {
      if (error == null) {
        return CompletableFuture.completedStage(reply);
      }
      if (unwrap(error) instanceof RedisNoScriptException) {
        // SCRIPT FLUSH, a restart without persistence or a failover to a node that never saw the
        // script: EVAL sends the source once, which also caches it on that node for EVALSHA.
        return scripting.<Object>eval(source, type, keys, args);
      }
      return CompletableFuture.<Object>failedStage(error);
    }).thenCompose(stage -> stage);
  }

  <T> CompletionStage<T> call(String what, java.util.function.Supplier<CompletionStage<T>> command) {
    if (closed.get()) {
      return CompletableFuture.failedFuture(closedError(what));
    }
    CircuitBreaker.Permit permit = breaker.acquire();
    if (permit == CircuitBreaker.Permit.REJECT) {
      return CompletableFuture.failedFuture(breakerOpen());
    }
    CompletionStage<T> stage;
    try {
      stage = command.get();
    } catch (RuntimeException e) { // Lettuce rejects synchronously in a few cases (queue full)
      stage = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<T> result = new CompletableFuture<>();
    stage.whenComplete((value, error) -> settle(result, permit, what, value, error));
    return result;
  }

  /**
   * Completes a call's result and tells the breaker: a reply (even one our checks refuse) means
   * Redis answered; timeouts and lost connections open it; error replies of a healthy server are
   * reported per call.
   */
  <T> void settle(CompletableFuture<T> result, CircuitBreaker.Permit permit, String what,
      T value, Throwable error) {
    if (error == null) {
      breaker.onSuccess();
      result.complete(value);
      return;
    }
    Throwable cause = unwrap(error);
    if (cause instanceof StoreException se) { // our own reply check: Redis answered
      breaker.onSuccess();
      result.completeExceptionally(se);
      return;
    }
    StoreException failure = cause instanceof RedisCommandTimeoutException
        ? new StoreException(RedisMessages.timedOut(timeout, what), cause)
        : new StoreException(RedisMessages.failed(what, cause), cause);
    if (meansUnavailable(cause)) {
      breaker.onFailure(permit, RedisMessages.describe(failure));
    } else {
      breaker.onSuccess();
    }
    result.completeExceptionally(failure);
  }

  /**
   * Whether a failure means Redis cannot serve decisions right now (open the breaker), as opposed
   * to an error reply from a healthy server (a bug or bad data, reported per call).
   */
  private static boolean meansUnavailable(Throwable cause) {
    if (cause instanceof RedisBusyException) {
      return true;
    }
    if (cause instanceof RedisCommandExecutionException) {
      String message = String.valueOf(cause.getMessage());
      return message.startsWith("LOADING") || message.startsWith("MASTERDOWN")
          || message.startsWith("CLUSTERDOWN") || message.startsWith("TRYAGAIN")
          || message.startsWith("READONLY") || message.startsWith("OOM");
    }
    return true;
  }

  static Throwable unwrap(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
