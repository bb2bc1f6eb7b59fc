package dev.sluice.store.redis;

import java.net.URI;
import java.time.Duration;

/** Every message the Redis store puts in an exception, in one place so tests can assert them. */
final class RedisMessages {
  private RedisMessages() {}

  /** The URL without its password, safe for logs and error messages. */
  static String redact(URI url) {
    return redact(url, false);
  }

  /**
   * The URL without its password. {@code userOnly}: the user info is only a user name (the
   * password comes from the environment), so it is shown; otherwise a user info without a colon
   * is a password, as redis-cli reads it, and masked.
   */
  static String redact(URI url, boolean userOnly) {
    String userInfo = url.getRawUserInfo();
    if (userInfo == null) {
      return url.toString();
    }
    int colon = userInfo.indexOf(':');
    String shown = colon < 0 ? (userOnly ? userInfo : "***") : userInfo.substring(0, colon) + ":***";
    return url.toString().replace(userInfo + "@", shown + "@");
  }

  static String cannotConnect(String target, Throwable cause) {
    return "cannot connect to the redis store at " + target + ": " + describe(cause);
  }

  static String cannotConnectBecause(String target, String why) {
    return "cannot connect to the redis store at " + target + ": " + why;
  }

  static String timedOut(Duration timeout, String what) {
    return "redis store did not answer " + what + " within the store timeout of "
        + timeout.toMillis() + "ms";
  }

  static String failed(String what, Throwable cause) {
    return "redis store failed " + what + ": " + describe(cause);
  }

  static String circuitOpen(String cause, long nanosUntilProbe) {
    return "redis store unavailable (circuit open after: " + cause + "); failing fast, next probe in "
        + Math.max(1, (nanosUntilProbe + 999_999) / 1_000_000) + "ms";
  }

  static String unexpectedReply(Object reply) {
    return "redis store script returned an unexpected reply " + reply
        + "; expected [allowed, deniedIndex, retryAfterNanos, (remaining, nextNanos, fullNanos)...]";
  }

  static String unexpectedAbuseReply(String operation, Object reply, String expected) {
    return "redis store script returned an unexpected reply " + reply + " to " + operation
        + "; expected " + expected;
  }

  static String horizonTooLong(String limitText, long horizonNanos) {
    return "limit '" + limitText + "' needs the redis store to track " + horizonNanos
        + "ns ahead, more than the " + DecisionScript.MAX_HORIZON_NANOS
        + "ns (2^53, ~104 days) a Lua number holds exactly; lower its burst or its period";
  }

  static String operatorBansFull(int max) {
    return "the redis ban registry already holds " + max + " operator bans, its bound; remove some,"
        + " or block a CIDR instead of banning addresses one by one";
  }

  static String describe(Throwable cause) {
    String message = cause.getMessage();
    return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
  }
}
