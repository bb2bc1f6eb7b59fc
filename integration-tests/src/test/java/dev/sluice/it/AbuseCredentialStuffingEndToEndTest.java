package dev.sluice.it;

import static dev.sluice.it.AbuseGateways.ABNORMAL_USAGE;
import static dev.sluice.it.AbuseGateways.describe;
import static dev.sluice.it.AbuseGateways.login;
import static dev.sluice.it.AbuseGateways.parallel;
import static dev.sluice.it.AbuseGateways.problemType;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Credential stuffing against the real Flask app, with the shipped
 * {@code examples/flask-api/sluice-abuse.yaml}: failures are counted per username
 * ({@code by: body:username}, 5 per 15 minutes) and per address (10 per 15 minutes, then a ban).
 *
 * <p>The 200 source addresses come through the trusted proxy header: the example trusts
 * 127.0.0.1, where the test connects from, so {@code X-Forwarded-For} names the client. The
 * attempts are sent 20 at a time, because that is where "reserve before forwarding" matters: a
 * gateway that counted a failure only once Flask had answered it would let every attempt in
 * flight through. The judge is Flask's own hit counter.
 */
class AbuseCredentialStuffingEndToEndTest {

    private static final int ATTEMPTS = 200;
    private static final int THREADS = 20;
    /** {@code login-per-user} in sluice-abuse.yaml. */
    private static final int PER_USER_LIMIT = 5;
    /** {@code login-per-ip} in sluice-abuse.yaml. */
    private static final int PER_IP_LIMIT = 10;

    @Test
    void twoHundredAddresses_oneUsername_perUsernameLimitLetsAtMostFiveFailuresReachFlask() throws Exception {
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(AbuseGateways.example(app.uri()))) {
            List<RawHttp.Response> responses = parallel(ATTEMPTS, THREADS, 60, i ->
                    login(gateway.address(), null, "10.7." + (i / 100) + "." + (i % 100 + 1), "alice", "guess" + i));

            long failures = responses.stream().filter(r -> r.status() == 401).count();
            long limited = responses.stream().filter(r -> r.status() == 429).count();
            assertThat(failures + limited).as("only 401 and 429 expected: %s", statuses(responses)).isEqualTo(ATTEMPTS);
            assertThat(app.stats().hits("/auth/login")).as("attempts that reached Flask")
                    .isLessThanOrEqualTo(PER_USER_LIMIT).isEqualTo(failures);
            assertThat(failures).as("the limit admits exactly its burst").isEqualTo(PER_USER_LIMIT);

            RawHttp.Response bob = login(gateway.address(), null, "10.7.9.9", "bob", "builder");
            assertThat(bob.status()).as("another username is not limited: %s", describe(bob)).isEqualTo(200);
        }
    }

    @Test
    void oneAddress_twoHundredUsernames_perAddressLimitLetsAtMostTenFailuresReachFlaskThenBans() throws Exception {
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(AbuseGateways.example(app.uri()))) {
            List<RawHttp.Response> responses = parallel(ATTEMPTS, THREADS, 60, i ->
                    login(gateway.address(), null, "198.51.100.7", "user" + i, "password1"));

            long failures = responses.stream().filter(r -> r.status() == 401).count();
            long limited = responses.stream().filter(r -> r.status() == 429).count();
            assertThat(failures + limited).as("only 401 and 429 expected: %s", statuses(responses)).isEqualTo(ATTEMPTS);
            assertThat(app.stats().hits("/auth/login")).as("attempts that reached Flask")
                    .isLessThanOrEqualTo(PER_IP_LIMIT).isEqualTo(failures);
            assertThat(failures).as("the limit admits exactly its burst").isEqualTo(PER_IP_LIMIT);
            assertThat(responses).as("the address tripped login-per-ip's penalty and is banned")
                    .anySatisfy(r -> assertThat(problemType(r)).isEqualTo(ABNORMAL_USAGE));

            RawHttp.Response banned = login(gateway.address(), null, "198.51.100.7", "alice", "wonderland");
            assertThat(banned.status()).as("banned even with the right password: %s", describe(banned)).isEqualTo(429);
            assertThat(problemType(banned)).isEqualTo(ABNORMAL_USAGE);
            RawHttp.Response neighbour = login(gateway.address(), null, "198.51.100.8", "alice", "wonderland");
            assertThat(neighbour.status()).as("another address logs in: %s", describe(neighbour)).isEqualTo(200);
        }
    }

    private static String statuses(List<RawHttp.Response> responses) {
        return responses.stream().map(r -> Integer.toString(r.status())).toList().toString();
    }
}
