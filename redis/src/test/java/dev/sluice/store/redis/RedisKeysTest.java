package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RedisKeysTest {

  private static final BucketSpec TWO_LIMITS = new BucketSpec(Algorithm.GCRA,
      List.of(Limit.of(5, Duration.ofMinutes(1)), new Limit(20, Duration.ofHours(1).toNanos(), 30, null)));

  /** The part Redis Cluster hashes: between the first '{' and the first '}' after it. */
  private static String hashTag(String key) {
    int open = key.indexOf('{');
    return key.substring(open + 1, key.indexOf('}', open + 1));
  }

  @Test
  void keys_oneBucket_shareOneHashTagAndNameTheirLimit() {
    String[] keys = RedisKeys.keys(new BucketKey("login", "ip:203.0.113.7"), TWO_LIMITS);

    assertThat(keys).containsExactly(
        "sluice:v1:{login:ip:203.0.113.7}:gcra:5/60000000000/5",
        "sluice:v1:{login:ip:203.0.113.7}:gcra:20/3600000000000/30");
    assertThat(hashTag(keys[0])).isEqualTo(hashTag(keys[1]));
  }

  @Test
  void keys_bracesAndColonsInNames_areEscapedSoTheTagIsWholeAndInjective() {
    String[] tricky = RedisKeys.keys(new BucketKey("a:b{", "header:X:}c%"), TWO_LIMITS);

    assertThat(hashTag(tricky[0])).isEqualTo("a%3Ab%7B:header:X:%7Dc%25");
    // "a" + "b:c" and "a:b" + "c" would collide without escaping the policy's colon.
    assertThat(RedisKeys.keys(new BucketKey("a", "b:c"), TWO_LIMITS)[0])
        .isNotEqualTo(RedisKeys.keys(new BucketKey("a:b", "c"), TWO_LIMITS)[0]);
  }

  @Test
  void keys_algorithmIsPartOfTheKey() {
    BucketSpec window = new BucketSpec(Algorithm.SLIDING_WINDOW, TWO_LIMITS.limits());
    BucketKey key = new BucketKey("p", "ip:1.2.3.4");

    assertThat(RedisKeys.keys(key, window)[0]).isEqualTo("sluice:v1:{p:ip:1.2.3.4}:window:5/60000000000/5");
  }

  @Test
  void escape_distinctNames_giveDistinctEscapes() {
    List<String> names = List.of("a", "%", "%25", "{", "%7B", "}", "%7D", ":", "%3A", "a:b", "a%3Ab", "");
    Set<String> escaped = new HashSet<>();
    for (String name : names) {
      escaped.add(RedisKeys.escape(name, true));
    }
    assertThat(escaped).hasSize(names.size());
  }

  @Test
  void abuseKeys_wholeEscapedKeyIsTheTag_andNamespacesNeverMeetBucketKeys() {
    String offence = RedisKeys.offence("login:ip:1.2.3.4");
    String permit = RedisKeys.permit("exports:api_key:a}b{");

    assertThat(offence).isEqualTo("sluice:v1:offence:{login:ip:1.2.3.4}");
    assertThat(permit).isEqualTo("sluice:v1:permit:{exports:api_key:a%7Db%7B}");
    assertThat(hashTag(permit)).isEqualTo("exports:api_key:a%7Db%7B");
    // Bucket keys have their brace right after the prefix; these have a namespace word there.
    assertThat(RedisKeys.keys(new BucketKey("offence", "x"), TWO_LIMITS)[0])
        .startsWith("sluice:v1:{").doesNotStartWith("sluice:v1:offence:");
  }

  @Test
  void banKeys_shareTheBansSlot() {
    assertThat(RedisKeys.BANS).isEqualTo("sluice:v1:{bans}");
    assertThat(RedisKeys.BAN_EXPIRY).isEqualTo("sluice:v1:{bans}:expiry");
    assertThat(RedisKeys.BAN_VERSION).isEqualTo("sluice:v1:{bans}:version");
    assertThat(hashTag(RedisKeys.BANS)).isEqualTo(hashTag(RedisKeys.BAN_EXPIRY)).isEqualTo("bans");
    assertThat(hashTag(RedisKeys.BAN_VERSION)).isEqualTo("bans");
  }
}
