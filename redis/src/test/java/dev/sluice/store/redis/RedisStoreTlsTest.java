package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.algorithm.Algorithm;
import dev.sluice.limit.Limit;
import dev.sluice.store.Ban;
import dev.sluice.store.BucketKey;
import dev.sluice.store.BucketSpec;
import dev.sluice.store.Consumption;
import dev.sluice.store.StoreException;
import dev.sluice.testkit.RedisServer;
import dev.sluice.testkit.TestCertificates;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rediss://} and Redis ACL users against a real {@code redis-server} started with
 * {@code --tls-port} and certificates made by {@code openssl} at test time.
 */
class RedisStoreTlsTest {

  /**
   * The minimal ACL rule for the store's user, exactly as docs/distributed.md gives it to
   * operators: the store's keys, the script commands and every command the scripts call. INFO
   * is left out on purpose (cluster detection from one URL then assumes a plain server).
   */
  static final String ACL_RULES = "~sluice:* resetchannels -@all"
      + " +evalsha +eval +script|load +ping"
      + " +time +get +set +del +exists +pexpire"
      + " +hget +hmget +hset +hdel +hincrby +hvals"
      + " +rpush +lpop +lindex +llen +lrange +ltrim"
      + " +zadd +zcard +zpopmin +zrange +zrangebyscore +zrem +zremrangebyscore +zscore";

  private static final String PASSWORD = "s3cret-Redis-pw-7f1c";
  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final BucketSpec SPEC =
      new BucketSpec(Algorithm.GCRA, List.of(Limit.of(3, Duration.ofHours(1))));

  @TempDir
  static Path dir;
  private static TestCertificates certs;
  private static RedisServer redis;

  @BeforeAll
  static void start() {
    certs = TestCertificates.in(dir);
    certs.ca("ca");
    certs.ca("other-ca");
    certs.leaf("redis", "ca", "IP:127.0.0.1");
    redis = RedisServer.startTls(certs.cert("redis"), certs.key("redis"), certs.cert("ca"));
    String[] setuser = ("ACL SETUSER sluice reset on >" + PASSWORD + " " + ACL_RULES).split(" ");
    assertThat(redis.call(setuser)).isEqualTo("OK");
  }

  @AfterAll
  static void stop() {
    if (redis != null) {
      redis.stop();
    }
  }

  @BeforeEach
  void flush() {
    redis.flushAll();
  }

  private static RedisStoreOptions options(URI url, RedisSecurity security) {
    return RedisStoreOptions.of(List.of(url), TIMEOUT).withSecurity(security);
  }

  private static RedisSecurity trustingTestCa() {
    return RedisSecurity.DEFAULT.withCaFile(certs.cert("ca"));
  }

  private static URI tls(String userInfo, String host) {
    return URI.create("rediss://" + (userInfo == null ? "" : userInfo + "@") + host + ":" + redis.tlsPort());
  }

  private static <T> T join(CompletionStage<T> stage) {
    return stage.toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
  }

  private static void assertSharedBucket(RedisStore a, RedisStore b) {
    BucketKey key = new BucketKey("login", "ip:203.0.113.7");
    assertThat(join(a.tryConsume(key, SPEC, 1)).allowed()).isTrue();
    assertThat(join(b.tryConsume(key, SPEC, 1)).allowed()).as("second instance").isTrue();
    Consumption third = join(a.tryConsume(key, SPEC, 1));
    assertThat(third.allowed()).isTrue();
    assertThat(third.limits().get(0).remaining()).as("both instances drew from one bucket").isZero();
    assertThat(join(b.tryConsume(key, SPEC, 1)).allowed()).as("fourth of 3/hour").isFalse();
  }

  @Test
  void rediss_withCaFile_decisionsAreSharedBetweenInstances() {
    try (RedisStore a = RedisStore.connect(options(redis.tlsUri(), trustingTestCa()));
        RedisStore b = RedisStore.connect(options(redis.tlsUri(), trustingTestCa()))) {
      assertSharedBucket(a, b);
    }
    // The decisions went through the TLS port: the plain one sees the keys they wrote.
    assertThat(redis.call("KEYS", "sluice:*")).contains("login");
  }

  @Test
  void rediss_aclUserWithPasswordFromEnvironment_everyStoreOperationWorksUnderTheMinimalAcl() {
    RedisSecurity security = trustingTestCa().withPassword(PASSWORD);
    try (RedisStore a = RedisStore.connect(options(tls("sluice", "127.0.0.1"), security));
        RedisStore b = RedisStore.connect(options(tls("sluice", "127.0.0.1"), security))) {
      assertSharedBucket(a, b);
      BucketKey key = new BucketKey("api", "ip:198.51.100.1");
      BucketSpec window = new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(2, Duration.ofMinutes(1))));
      assertThat(join(a.tryConsume(key, window, 2)).allowed()).isTrue();
      join(a.refund(key, window, 1));
      assertThat(join(b.tryConsume(key, window, 1)).allowed()).as("refunded through the other").isTrue();
      // A reload that changes the limit: the new key is filled from the old one (EXISTS, LRANGE).
      BucketSpec wider = new BucketSpec(Algorithm.SLIDING_WINDOW, List.of(Limit.of(3, Duration.ofMinutes(1))));
      Consumption migrated = join(b.tryConsume(key, wider, 1));
      assertThat(migrated.allowed()).isTrue();
      assertThat(migrated.limits().get(0).remaining()).as("2 used carried over, 1 more of 3").isZero();
      assertThat(join(a.recordOffence("login:ip:1.2.3.4", Duration.ofMinutes(1).toNanos()))).isEqualTo(1);
      assertThat(join(b.recordOffence("login:ip:1.2.3.4", Duration.ofMinutes(1).toNanos()))).isEqualTo(2);
      join(a.putBan(Ban.of("login", "ip:203.0.113.9", System.currentTimeMillis() + 60_000, "test")));
      assertThat(join(b.listBans())).extracting(Ban::identity).containsExactly("ip:203.0.113.9");
      assertThat(join(b.removeBan(join(b.listBans()).get(0).id()))).isTrue();
      assertThat(join(a.acquirePermit("upload:ip:1.2.3.4", 1, Duration.ofMinutes(1).toNanos()))).isTrue();
      assertThat(join(b.acquirePermit("upload:ip:1.2.3.4", 1, Duration.ofMinutes(1).toNanos()))).isFalse();
      join(a.releasePermit("upload:ip:1.2.3.4"));
      join(a.forgetBucket(key, wider));
      join(a.forgetOffences("login:ip:1.2.3.4"));
      join(a.ping());
    }
    // The ACL really confines the user: a command outside the rule is refused to it.
    assertThat(redis.call("ACL", "DRYRUN", "sluice", "FLUSHALL")).contains("no permissions");
  }

  @Test
  void aclUserRemovedWhileRunning_callsFailAsStoreErrors_andRecoverWhenTheUserIsBack() {
    String[] create = ("ACL SETUSER rotating reset on >" + PASSWORD + " " + ACL_RULES).split(" ");
    assertThat(redis.call(create)).isEqualTo("OK");
    BucketKey key = new BucketKey("login", "ip:192.0.2.1");
    RedisSecurity security = trustingTestCa().withPassword(PASSWORD);
    try (RedisStore store = RedisStore.connect(options(tls("rotating", "127.0.0.1"), security))) {
      assertThat(join(store.tryConsume(key, SPEC, 1)).allowed()).isTrue();
      redis.call("ACL", "DELUSER", "rotating"); // also closes the connections of that user
      // Lettuce reconnects and is refused (WRONGPASS): every call is a StoreException, so the
      // policy's on_error applies; nothing hangs beyond the store timeout.
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThatThrownBy(() -> join(store.tryConsume(key, SPEC, 1)))
              .hasCauseInstanceOf(StoreException.class));
      assertThat(redis.call(create)).isEqualTo("OK");
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().untilAsserted(() ->
          assertThat(join(store.tryConsume(key, SPEC, 1)).allowed()).isTrue());
    } finally {
      redis.call("ACL", "DELUSER", "rotating");
    }
  }

  @Test
  void aclUser_passwordInTheUrl_works() {
    try (RedisStore a = RedisStore.connect(options(tls("sluice:" + PASSWORD, "127.0.0.1"), trustingTestCa()))) {
      assertThat(join(a.tryConsume(new BucketKey("login", "ip:1"), SPEC, 1)).allowed()).isTrue();
    }
  }

  @Test
  void wrongPassword_failsAtConnectWithAClearMessageWithoutThePassword() {
    RedisSecurity security = trustingTestCa().withPassword("not-the-" + PASSWORD);
    assertThatThrownBy(() -> RedisStore.connect(options(tls("sluice", "127.0.0.1"), security)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("cannot connect to the redis store at rediss://sluice@127.0.0.1:" + redis.tlsPort())
        .hasMessageContaining("redis rejected the credentials (WRONGPASS")
        .message().doesNotContain(PASSWORD);
    assertThatThrownBy(() -> RedisStore.connect(options(tls("sluice:wrong-" + PASSWORD, "127.0.0.1"), trustingTestCa())))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("rediss://sluice:***@127.0.0.1:" + redis.tlsPort())
        .hasMessageContaining("redis rejected the credentials")
        .message().doesNotContain(PASSWORD);
  }

  @Test
  void wrongCa_orSystemTrustStore_failsTheHandshakeClearlyAndQuickly() {
    long start = System.nanoTime();
    assertThatThrownBy(() -> RedisStore.connect(options(redis.tlsUri(),
        RedisSecurity.DEFAULT.withCaFile(certs.cert("other-ca")))))
        .isInstanceOf(StoreException.class)
        .hasMessageStartingWith("cannot connect to the redis store at " + redis.tlsUri() + ": TLS handshake failed (")
        .hasMessageContaining("store.tls.ca_file");
    assertThatThrownBy(() -> RedisStore.connect(options(redis.tlsUri(), RedisSecurity.DEFAULT)))
        .as("the test CA is not in the JDK's trust store")
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("TLS handshake failed (");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
  }

  @Test
  void hostNameNotInTheCertificate_isRefused_unlessInsecureSkipVerify() {
    // The certificate names IP:127.0.0.1 only; "localhost" is the same server under another name.
    assertThatThrownBy(() -> RedisStore.connect(options(tls(null, "localhost"), trustingTestCa())))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("TLS handshake failed (");
    RedisSecurity insecure = new RedisSecurity(java.util.Optional.empty(), java.util.Optional.empty(), true);
    try (RedisStore store = RedisStore.connect(options(tls(null, "localhost"), insecure))) {
      assertThat(join(store.tryConsume(new BucketKey("login", "ip:1"), SPEC, 1)).allowed()).isTrue();
    }
  }

  @Test
  void optionsToString_masksPasswords() {
    RedisStoreOptions options = options(tls("sluice", "127.0.0.1"), trustingTestCa().withPassword(PASSWORD));
    assertThat(options.toString()).doesNotContain(PASSWORD).contains("password=***");
    assertThat(options(tls("sluice:" + PASSWORD, "127.0.0.1"), RedisSecurity.DEFAULT).toString())
        .doesNotContain(PASSWORD).contains("sluice:***@");
    assertThatThrownBy(() -> options(tls("sluice:" + PASSWORD, "127.0.0.1"), RedisSecurity.DEFAULT.withPassword("x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("carries a password and one is also given from the environment")
        .message().doesNotContain(PASSWORD);
  }

  @Test
  void rediss_cluster_decidesOnEveryMaster_withTheCaFile_andRefusesAnotherCa() {
    try (LocalRedisCluster cluster = LocalRedisCluster.startTls(certs.cert("redis"), certs.key("redis"), certs.cert("ca"))) {
      assertThat(cluster.uris()).allMatch(u -> u.getScheme().equals("rediss"));
      RedisStoreOptions options = RedisStoreOptions.of(cluster.uris(), TIMEOUT).withSecurity(trustingTestCa());
      try (RedisStore a = RedisStore.connect(options); RedisStore b = RedisStore.connect(options)) {
        for (int i = 0; i < 60; i++) {
          BucketKey key = new BucketKey("login", "ip:10.0.0." + i);
          assertThat(join(a.tryConsume(key, SPEC, 3)).allowed()).isTrue();
          assertThat(join(b.tryConsume(key, SPEC, 1)).allowed()).as("shared through the cluster").isFalse();
        }
      }
      // The buckets were spread over the masters (the discovered nodes were reached over TLS too).
      long mastersWithKeys = cluster.ports().stream()
          .filter(p -> Long.parseLong(cluster.cli(p, "DBSIZE").strip()) > 0).count();
      assertThat(mastersWithKeys).isEqualTo(3);
      assertThatThrownBy(() -> RedisStore.connect(RedisStoreOptions.of(cluster.uris(), TIMEOUT)
          .withSecurity(RedisSecurity.DEFAULT.withCaFile(certs.cert("other-ca")))))
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("TLS handshake failed (PKIX path building failed")
          .message().doesNotContain("\n");
    }
  }
}
