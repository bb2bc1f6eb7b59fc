package dev.sluice.policy;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.time.DurationText;

/**
 * Every message of the policy model, in one place (like Bucket4j's {@code BucketExceptions}) so
 * wording stays consistent and tests can assert the exact text. Each says what is wrong, the
 * offending value and what was expected. {@code subject} is {@code policy "name"} or
 * {@code defaults}.
 */
final class PolicyMessages {
  private PolicyMessages() {}

  static String unknownMode(String name) {
    return "unknown mode " + quote(name) + "; expected enforce or shadow";
  }

  static String unknownOnError(String name) {
    return "unknown on_error " + quote(name) + "; expected allow or deny";
  }

  static String blankName() {
    return "policy name is blank; expected letters, digits, '-', '_' or '.'";
  }

  static String badName(String name, int index) {
    return "policy name " + quote(name) + " has " + describe(name.codePointAt(index)) + " at index "
        + index + "; expected only letters, digits, '-', '_' or '.' (the name is sent in response headers)";
  }

  static String nameTooLong(String name, int max) {
    return "policy name " + quote(name) + " is " + name.length() + " characters long; expected at most " + max;
  }

  static String reservedName(String name) {
    return "policy name " + quote(name)
        + " is reserved for the defaults section; choose another name";
  }

  static String duplicateName(String name, int firstIndex) {
    return "policy name " + quote(name) + " is already used by policies[" + firstIndex
        + "]; expected unique names (they name buckets, metrics and headers)";
  }

  static String nullValue(String subject, String field) {
    return subject + ": " + field + " is null; expected a value";
  }

  static String badMethod(String subject, String method) {
    return subject + ": method " + quote(method)
        + " is not a valid HTTP method token; expected e.g. GET, POST, DELETE";
  }

  static String noPaths(String subject) {
    return subject + ": match.paths is empty; expected at least one path pattern such as \"/api/**\"";
  }

  static String badPath(String subject, String problem) {
    return subject + ": " + problem;
  }

  static String noIdentities(String subject) {
    return subject + ": by is empty; expected at least one identity such as ip or [api_key, ip]";
  }

  static String duplicateIdentity(String subject, IdentitySpec spec) {
    return subject + ": by lists " + spec + " twice; expected each identity once";
  }

  static String unreachableIdentity(String subject, IdentitySpec unreachable, IdentitySpec always) {
    return subject + ": by lists " + unreachable + " after " + always
        + ", which every request has, so " + unreachable + " is never used; expected "
        + always + " last in the chain";
  }

  static String noLimits(String subject) {
    return subject + ": limits is empty; expected at least one limit such as \"100/minute\"";
  }

  static String duplicateLimit(String subject, Limit limit) {
    return subject + ": limit " + quote(limit.text()) + " is listed twice; expected each limit once";
  }

  static String costTooSmall(String subject, long cost) {
    return subject + ": cost " + cost + " is not allowed; expected a whole number of tokens, at least 1";
  }

  static String costAboveCapacity(String subject, long cost, Limit limit, long capacity) {
    return subject + ": cost " + cost + " is larger than limit " + quote(limit.text())
        + ", which holds at most " + capacity
        + " tokens, so no request could ever be admitted; expected a cost of at most " + capacity
        + " or a larger burst";
  }

  static String burstWithSlidingWindow(String subject, Limit limit) {
    return subject + ": limit " + quote(limit.text()) + " sets a burst, but "
        + Algorithm.SLIDING_WINDOW.configName() + " admits at most N in any window and has no burst;"
        + " expected no burst, or algorithm " + Algorithm.GCRA.configName();
  }

  static String slidingWindowTooLarge(String subject, Limit limit, long max) {
    return subject + ": limit " + quote(limit.text()) + " allows " + limit.quantity()
        + " requests per window, too many for " + Algorithm.SLIDING_WINDOW.configName()
        + "; expected at most " + max + ", or algorithm " + Algorithm.GCRA.configName();
  }

  static String limitOutOfBounds(String subject, Limit limit, String problem) {
    return subject + ": limit " + quote(limit.text()) + ": " + problem;
  }

  static String blankExemptKey(int index) {
    return "exempt api key at index " + index + " is blank; expected the raw key";
  }

  static String limitIndexOutOfRange(String name, int index, int count) {
    return "policy " + quote(name) + " has " + count + (count == 1 ? " limit" : " limits")
        + "; limit index " + index + " is out of range";
  }

  static String badStatus(String text) {
    return "status " + quote(text) + " is not allowed; expected a status code from 100 to 599 such as 401,"
        + " or a class such as 4xx";
  }

  static String badStatusRange(int from, int to) {
    return "status range " + from + ".." + to + " is not allowed; expected statuses from 100 to 599,"
        + " lowest first";
  }

  static String noCountStatuses(String subject) {
    return subject + ": count.status is empty; expected at least one status such as 401 or 4xx";
  }

  static String unknownPriority(String name) {
    return "unknown priority " + quote(name) + "; expected critical, normal or low";
  }

  static String unknownPenaltyScope(String name) {
    return "unknown penalty scope " + quote(name) + "; expected policy or all";
  }

  static String badBan(java.time.Duration ban) {
    return "penalty ban " + DurationText.format(ban) + " is not allowed; expected a positive duration of at most "
        + DurationText.format(Penalty.MAX_BAN) + " such as 15m (use block: for permanent refusals)";
  }

  static String badEscalate(long escalate) {
    return "penalty escalate " + escalate + "x is not allowed; expected a factor of at least 1x"
        + " (1x = every ban as long as the first, 2x = each offence doubles it)";
  }

  static String badMaxBan(java.time.Duration ban, java.time.Duration max) {
    return "penalty max " + DurationText.format(max) + " is not allowed; expected a duration from the ban ("
        + DurationText.format(ban) + ") to " + DurationText.format(Penalty.MAX_BAN)
        + " (use block: for permanent refusals)";
  }

  static String badConcurrency(String subject, long concurrency) {
    return subject + ": concurrency " + concurrency
        + " is not allowed; expected at least 1 in-flight request per identity";
  }

  static String concurrencyInShadow(String subject) {
    return subject + ": concurrency cannot be used with mode shadow (a concurrency cap has no"
        + " shadow form: a request over it would have to be both run and refused); expected mode"
        + " enforce, or no concurrency";
  }

  static String badRollout(String subject, int basisPoints) {
    return subject + ": rollout must be between 0% and 100%, got " + Rollout.text(Math.abs(basisPoints))
        .replaceFirst("^", basisPoints < 0 ? "-" : "");
  }

  static String concurrencyInRollout(String subject, int basisPoints) {
    return subject + ": concurrency cannot be used with a partial rollout (" + Rollout.text(basisPoints)
        + "): identities left in shadow would have to be both capped and not; expected rollout: 100%,"
        + " or no concurrency";
  }

  static String blankBlockedKey(int index) {
    return "blocked api key at index " + index + " is blank; expected the raw key";
  }

  static String quote(String value) {
    return value == null ? "null" : "\"" + value + "\"";
  }

  private static String describe(int codePoint) {
    if (codePoint == ' ') {
      return "a space";
    }
    if (Character.isISOControl(codePoint) || Character.isWhitespace(codePoint)) {
      return String.format("the control character U+%04X", codePoint);
    }
    return "'" + new String(Character.toChars(codePoint)) + "'";
  }
}
