package dev.sluice.it;

import static dev.sluice.it.AbuseGateways.ABNORMAL_USAGE;
import static dev.sluice.it.AbuseGateways.describe;
import static dev.sluice.it.AbuseGateways.login;
import static dev.sluice.it.AbuseGateways.problemType;
import static dev.sluice.it.AbuseGateways.retryAfter;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/**
 * Password guessing against the real Flask app (SPEC §7): only failed logins (401) count, the
 * guesser is banned when it trips the limit, the ban ends on time, and a second offence bans for
 * twice as long.
 *
 * <p>Real time, because {@code Gateway.start} takes no wall clock for bans; the first ban is 2 s
 * so the whole test waits about 6 s. The limit refills slowly (one failure per 20 s), so the
 * outcome does not depend on how fast a loaded machine sends the attempts.
 */
class AbuseBruteForceEndToEndTest {

    private static final String POLICIES = """
            policies:
              - name: login-failures
                match: { methods: [POST], paths: ["/auth/login"] }
                by: ip
                count: { status: [401] }
                limits: ["3/minute"]
                penalty: { ban: 2s, escalate: 2x, max: 1m }
                priority: critical
            """;

    @Test
    void wrongPasswords_fromOneAddress_bannedAfterTheLimitAndSecondOffenceBansTwiceAsLong() throws Exception {
        InetAddress attacker = InetAddress.getByName("127.0.0.2");
        InetAddress someoneElse = InetAddress.getByName("127.0.0.3");
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(AbuseGateways.parse(app.uri(), "", POLICIES))) {
            // Three failures with three successful logins after each of the first two: if
            // successes counted, the second request would already exhaust the 3-token bucket.
            // (After the third failure the bucket is full: any further attempt trips it, because
            // the attempt is reserved before Flask says whether it fails.)
            for (int round = 1; round <= 3; round++) {
                assertThat(login(gateway.address(), attacker, null, "alice", "guess" + round).status())
                        .as("failure %d", round).isEqualTo(401);
                for (int ok = 1; round < 3 && ok <= 3; ok++) {
                    RawHttp.Response success = login(gateway.address(), attacker, null, "alice", "wonderland");
                    assertThat(success.status()).as("success %d after failure %d: %s", ok, round, describe(success))
                            .isEqualTo(200);
                }
            }

            RawHttp.Response tripped = login(gateway.address(), attacker, null, "alice", "wonderland");
            long firstBanStart = System.nanoTime();
            assertThat(tripped.status()).as(describe(tripped)).isEqualTo(429);
            assertThat(problemType(tripped)).isEqualTo(ABNORMAL_USAGE);
            assertThat(retryAfter(tripped)).as("Retry-After = the 2 s ban").isEqualTo(2);
            assertThat(app.stats().hits("/auth/login")).as("the tripping attempt never reached Flask").isEqualTo(9);
            assertThat(login(gateway.address(), someoneElse, null, "alice", "wonderland").status())
                    .as("another address is not banned").isEqualTo(200);

            // The failures stay counted for a minute, so the first attempt after the ban trips the
            // limit again: a second offence, banned for 2 s x 2. That fresh 4 s ban is how the end
            // of the first one shows.
            NextBan second = awaitNextBan(gateway, attacker, 2, firstBanStart);
            assertThat(second.afterSeconds()).as("first ban length (s)").isBetween(1.7, 3.5);
            assertThat(second.retryAfter()).as("second offence: 2 s x 2").isEqualTo(4);

            NextBan third = awaitNextBan(gateway, attacker, 4, second.startNanos());
            assertThat(third.afterSeconds()).as("second ban length (s)").isBetween(3.7, 5.5);
            assertThat(third.retryAfter()).as("third offence: 2 s x 2 x 2").isEqualTo(8);

            assertThat(app.stats().hits("/auth/login"))
                    .as("no attempt reached Flask while banned (9 + the other address's login)").isEqualTo(10);
            assertThat(gateway.metrics().requests("login-failures", "blocked")).isGreaterThanOrEqualTo(3);
        }
    }

    record NextBan(double afterSeconds, long retryAfter, long startNanos) {
    }

    /**
     * Polls every 100 ms (with the right password) while the current ban lasts: each answer must
     * be the ban (abnormal usage, {@code Retry-After} within the ban) until one starts a new, longer
     * ban. Returns when that happened, in seconds since {@code banStart}, and the new
     * {@code Retry-After}; fails after {@code banSeconds + 3} s.
     */
    private static NextBan awaitNextBan(GatewayUnderTest gateway, InetAddress attacker, long banSeconds,
                                        long banStart) throws InterruptedException {
        long deadline = banStart + (banSeconds + 3) * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            RawHttp.Response response = login(gateway.address(), attacker, null, "alice", "wonderland");
            long now = System.nanoTime();
            assertThat(response.status()).as("while banned: %s", describe(response)).isEqualTo(429);
            assertThat(problemType(response)).isEqualTo(ABNORMAL_USAGE);
            long retryAfter = retryAfter(response);
            if (retryAfter > banSeconds) {
                return new NextBan((now - banStart) / 1e9, retryAfter, now);
            }
            assertThat(retryAfter).as("Retry-After = the remaining ban").isPositive();
            Thread.sleep(100);
        }
        throw new AssertionError("no new ban " + (banSeconds + 3) + " s after a " + banSeconds + " s ban");
    }
}
