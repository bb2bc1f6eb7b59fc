package dev.sluice.engine;

import dev.sluice.identity.ClientAddress;
import dev.sluice.identity.Identity;
import dev.sluice.store.BucketKey;
import dev.sluice.store.Consumption;

/**
 * A decision remembered for reuse by {@link Engine#decideNow} (or, with a null answer and decision, a
 * client just seen): immutable, safely published. See {@link FastPath}.
 */
final class SharedDecision {
  final ClientAddress client;
  final Consumption answer;
  final Decision decision;
  final Identity identity;
  final BucketKey key;

  SharedDecision(ClientAddress client, Consumption answer, Decision decision, Identity identity, BucketKey key) {
    this.client = client;
    this.answer = answer;
    this.decision = decision;
    this.identity = identity;
    this.key = key;
  }
}
