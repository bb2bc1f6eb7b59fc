package dev.sluice.it;

import static dev.sluice.it.AbuseGateways.describe;
import static dev.sluice.it.AbuseGateways.login;
import static dev.sluice.it.AbuseGateways.retryAfter;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Load shedding by priority (SPEC §7, {@code gateway.max_inflight}): twelve clients keep the
 * slow, low-priority exports saturating a 4-request cap, and logins, which are critical, still get
 * through; the exports beyond the cap are shed with 503.
 */
class AbuseSheddingEndToEndTest {

    private static final int MAX_INFLIGHT = 4;
    private static final int LOW_CLIENTS = 12;
    private static final int LOGINS = 30;
    private static final String POLICIES = """
            clients:
              api_key: { header: X-API-Key }
            policies:
              - name: login
                match: { methods: [POST], paths: ["/auth/login"] }
                by: ip
                limits: ["100000/minute"]
                priority: critical
              - name: exports
                match: { paths: ["/api/reports/**"] }
                by: api_key
                limits: ["100000/minute"]
                priority: low
            """;

    @Test
    void upstreamSaturatedByLowPriority_criticalLoginsStillGetThrough_lowOnesShedWith503() throws Throwable {
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(AbuseGateways.parse(app.uri(),
                     "  max_inflight: " + MAX_INFLIGHT + "\n  upstream_timeout: 10s\n", POLICIES))) {
            AtomicInteger lowServed = new AtomicInteger();
            AtomicInteger lowShed = new AtomicInteger();
            AtomicReference<RawHttp.Response> shedSample = new AtomicReference<>();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            long stopAt = System.nanoTime() + 4_000_000_000L;
            List<Thread> lowClients = new ArrayList<>();
            for (int t = 0; t < LOW_CLIENTS; t++) {
                Thread thread = new Thread(() -> {
                    try {
                        while (System.nanoTime() < stopAt) {
                            RawHttp.Response response = RawHttp.get(gateway.address(), null,
                                    "/api/reports/1?delay=0.5", Map.of("X-API-Key", "demo-key-alice"));
                            if (response.status() == 200) {
                                lowServed.incrementAndGet();
                            } else if (response.status() == 503) {
                                lowShed.incrementAndGet();
                                shedSample.compareAndSet(null, response);
                                Thread.sleep(20); // a client backing off a little, as Retry-After asks
                            } else {
                                throw new AssertionError("low-priority export: expected 200 or 503, got "
                                        + describe(response));
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "low-" + t);
                thread.start();
                lowClients.add(thread);
            }

            Thread.sleep(700); // let the exports fill the cap first
            int loginsOk = 0;
            List<String> loginFailures = new ArrayList<>();
            for (int i = 0; i < LOGINS; i++) {
                RawHttp.Response response = login(gateway.address(), null, null, "alice", "wonderland");
                if (response.status() == 200) {
                    loginsOk++;
                } else {
                    loginFailures.add(describe(response));
                }
                Thread.sleep(50);
            }
            for (Thread thread : lowClients) {
                thread.join(20_000);
                if (thread.isAlive()) {
                    failures.add(new AssertionError(thread.getName() + " did not finish within 20 s"));
                }
            }
            if (!failures.isEmpty()) {
                Throwable first = failures.poll();
                failures.forEach(first::addSuppressed);
                throw first;
            }

            assertThat(loginsOk).as("critical logins served while saturated (failures: %s)", loginFailures)
                    .isGreaterThanOrEqualTo((int) Math.ceil(LOGINS * 0.9));
            assertThat(lowShed.get()).as("low-priority exports shed (served %d)", lowServed.get()).isPositive();
            assertThat(lowServed.get()).as("low-priority exports still served up to the cap").isPositive();
            RawHttp.Response shed = shedSample.get();
            assertThat(retryAfter(shed)).isPositive();
            assertThat(shed.header("Content-Type")).startsWith("application/problem+json");
            assertThat(app.stats().maxInFlight()).as("Flask's max in-flight vs max_inflight %d", MAX_INFLIGHT)
                    .isLessThanOrEqualTo(MAX_INFLIGHT);
        }
    }
}
