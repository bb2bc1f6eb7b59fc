package dev.sluice.engine;

import dev.sluice.time.DurationText;
import java.time.Duration;

/** The engine's messages, in one place so tests can assert the exact text. */
final class EngineMessages {
  private EngineMessages() {}

  static String missing(String setter) {
    return "Engine.builder() needs " + setter + " before build(); it was not called";
  }

  static String badTimeout(Duration timeout) {
    return "store timeout " + DurationText.format(timeout) + " is not allowed; expected a positive duration such as 50ms";
  }

  static String badLease(Duration lease) {
    return "permit lease " + DurationText.format(lease) + " is not allowed; expected a positive duration longer than"
        + " the longest exchange, such as 5m";
  }

  static String banReason(dev.sluice.policy.Policy policy, String item, long offence, Duration length) {
    return "policy \"" + policy.name() + "\" refused the identity (limit " + item + "); offence "
        + offence + ", banned for " + DurationText.format(length);
  }

  static String badTimingSample(int n) {
    return "timing sample one in " + n + " is not allowed; expected 1 (every decision) or more";
  }

  static String nullStage() {
    return "the store returned no answer (a null stage) instead of a CompletionStage";
  }
}
