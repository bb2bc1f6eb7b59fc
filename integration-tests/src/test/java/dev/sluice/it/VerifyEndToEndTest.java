package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.cli.Main;
import dev.sluice.testkit.FlaskApp;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.SchemaFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sluice verify} (SPEC §11) against a real {@code sluice serve} in front of the example
 * Flask app under gunicorn. Drift is simulated the way it happens: the gateway runs a different
 * policy file than the one verify reads (swapped in by a reload), and each kind of drift must fail
 * the check of the right policy.
 */
class VerifyEndToEndTest {
    @TempDir static Path dir;
    static FlaskApp app;
    static ServeProcess serve;
    static Path verifyFile;
    static Path gatewayFile;
    static int[] ports;

    /** The matrix verify proves; the gateway runs variants of it. Small limits, one-minute periods. */
    static String policyFile(String headers, String search, String searchBy, String searchPaths, String items,
            String reportsMode, String exempt) {
        return String.join("\n",
                "version: 1",
                "gateway:",
                "  listen: 127.0.0.1:" + ports[0],
                "  upstream: " + app.uri(),
                "  admin: 127.0.0.1:" + ports[1],
                "clients:",
                "  trusted_proxies: [127.0.0.1/32]",
                "  api_key: { header: X-API-Key }",
                "headers: " + headers,
                exempt,
                "block:",
                "  ips: [203.0.113.0/24]",
                "defaults:",
                "  by: ip",
                "  limits: [\"4/minute\"]",
                "policies:",
                "  - name: search",
                "    match: { methods: [GET], paths: " + searchPaths + " }",
                "    by: " + searchBy,
                "    limits: [\"" + search + "\", \"50/hour\"]",
                items,
                "  - name: reports",
                "    match: { paths: [\"/api/reports/**\"] }",
                "    by: api_key",
                "    limits: [\"2/minute\"]",
                "    mode: " + reportsMode,
                "  - name: login",
                "    match: { methods: [POST], paths: [\"/auth/login\"] }",
                "    by: ip",
                "    limits: [\"5/minute\"]",
                "  - name: login-user",
                "    match: { methods: [POST], paths: [\"/auth/login\"] }",
                "    by: body:username",
                "    limits: [\"5/minute\"]",
                "");
    }

    static final String ITEMS = "  - name: items\n    match: { paths: [\"/api/items\"] }\n    by: ip\n    limits: [\"2/minute burst 3\"]";
    static final String EXEMPT = "exempt:\n  api_keys: [partner-key-1]";

    static String faithful() {
        return policyFile("ietf", "3/minute", "[api_key, ip]", "[\"/api/search\", \"/api/search/**\"]", ITEMS,
                "shadow", EXEMPT);
    }

    @BeforeAll
    static void start() throws Exception {
        app = FlaskApp.start();
        ports = ServeProcess.ports();
        verifyFile = dir.resolve("sluice.yaml");
        gatewayFile = dir.resolve("gateway.yaml");
        Files.writeString(verifyFile, faithful());
        Files.writeString(gatewayFile, faithful());
        serve = ServeProcess.start("sluice-verify-gw", gatewayFile, ports[0], ports[1]);
    }

    @AfterAll
    static void stop() {
        if (serve != null) {
            serve.close();
        }
        if (app != null) {
            app.close();
        }
    }

    record Run(int exit, String out, String err) {
        /** The report line of a check, e.g. {@code FAILED  search/1 ...}. */
        String line(String id) {
            return out.lines().filter(l -> l.matches("^(PROVEN|FAILED|NOT PROVABLE)\\s+" + Pattern.quote(id) + "\\b.*"))
                    .findFirst().orElse("(no line for " + id + ")\n" + out);
        }
    }

    static Run verify(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        String[] all = new String[args.length + 1];
        all[0] = "verify";
        System.arraycopy(args, 0, all, 1, args.length);
        int exit = cl.execute(all);
        return new Run(exit, out.toString(), err.toString());
    }

    static Run verifyLive() {
        return verify("-c", verifyFile.toString(), "--target", serve.uri("").toString(), "--via-trusted-proxy");
    }

    /** Runs the gateway on {@code gatewayYaml} (a reload, as a deploy of another file would). */
    static void deploy(String gatewayYaml) throws Exception {
        Files.writeString(gatewayFile, gatewayYaml);
        HttpResponse<String> reload = serve.adminPost("/v1/config/reload", "");
        assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);
    }

    static synchronized Run drift(String gatewayYaml) throws Exception {
        deploy(gatewayYaml);
        try {
            return verifyLive();
        } finally {
            deploy(faithful());
        }
    }

    static void assertFails(Run run, String id) {
        assertThat(run.exit).as(run.out + run.err).isEqualTo(1);
        assertThat(run.line(id)).startsWith("FAILED");
    }

    @Test
    void faithfulDeployment_isProven_exit0() throws Exception {
        deploy(faithful());
        Run run = verifyLive();
        assertThat(run.exit).as(run.out + run.err).isZero();
        assertThat(run.out).doesNotContain("FAILED");
        for (String id : List.of("search/1", "items", "default", "shadow reports")) {
            assertThat(run.line(id)).as(run.out).startsWith("PROVEN");
        }
        assertThat(run.out).containsPattern("PROVEN\\s+exempt api_keys\\[0\\]");
        assertThat(run.out).containsPattern("PROVEN\\s+block ips 203.0.113.0/24");
        // Not provable is reported with its reason, never as proven.
        assertThat(run.line("search/2")).startsWith("NOT PROVABLE").contains("tighter limit");
        assertThat(run.line("login")).startsWith("NOT PROVABLE").contains("--allow-unsafe-methods");
        assertThat(run.line("ban")).startsWith("NOT PROVABLE").contains("--admin-url");
    }

    @Test
    void adminUrl_banIsProven_andLifted() throws Exception {
        Run run;
        synchronized (VerifyEndToEndTest.class) {
            deploy(faithful());
            run = verify("-c", verifyFile.toString(), "--target", serve.uri("").toString(), "--via-trusted-proxy",
                    "--admin-url", serve.adminUri("").toString());
        }
        assertThat(run.exit).as(run.out + run.err).isZero();
        assertThat(run.line("ban")).startsWith("PROVEN").contains("abnormal-usage-detected");
        assertThat(serve.adminGet("/v1/bans").body()).doesNotContain("198.18.");
    }

    @Test
    void looserLimit_failsSearch() throws Exception {
        Run run = drift(policyFile("ietf", "6/minute", "[api_key, ip]", "[\"/api/search\", \"/api/search/**\"]",
                ITEMS, "shadow", EXEMPT));
        assertFails(run, "search/1");
        assertThat(run.line("search/1")).contains("expected at most 3");
        assertThat(run.line("items")).startsWith("PROVEN");
    }

    @Test
    void missingPolicy_failsItems() throws Exception {
        Run run = drift(policyFile("ietf", "3/minute", "[api_key, ip]", "[\"/api/search\", \"/api/search/**\"]",
                "", "shadow", EXEMPT));
        assertFails(run, "items");
        assertThat(run.line("search/1")).startsWith("PROVEN");
    }

    @Test
    void wrongIdentity_failsSearch() throws Exception {
        Run run = drift(policyFile("ietf", "3/minute", "ip", "[\"/api/search\", \"/api/search/**\"]",
                ITEMS, "shadow", EXEMPT));
        assertFails(run, "search/1");
        assertThat(run.line("items")).startsWith("PROVEN");
    }

    @Test
    void headersOff_failsWithTheFields() throws Exception {
        // headers: cannot change by a reload, so this drift is a second gateway started on it.
        int[] other = ServeProcess.ports();
        String yaml = policyFile("none", "3/minute", "[api_key, ip]", "[\"/api/search\", \"/api/search/**\"]",
                ITEMS, "shadow", EXEMPT).replace("127.0.0.1:" + ports[0], "127.0.0.1:" + other[0])
                .replace("127.0.0.1:" + ports[1], "127.0.0.1:" + other[1]);
        Path file = dir.resolve("headers-none.yaml");
        Files.writeString(file, yaml);
        Run run;
        try (ServeProcess second = ServeProcess.start("sluice-verify-gw-headers", file, other[0], other[1])) {
            run = verify("-c", verifyFile.toString(), "--target", second.uri("").toString(), "--via-trusted-proxy");
        }
        assertFails(run, "search/1");
        assertThat(run.line("search/1")).contains("expected RateLimit-Policy and RateLimit");
    }

    @Test
    void shadowPolicyEnforcing_failsShadowCheck() throws Exception {
        Run run = drift(policyFile("ietf", "3/minute", "[api_key, ip]", "[\"/api/search\", \"/api/search/**\"]",
                ITEMS, "enforce", EXEMPT));
        assertFails(run, "shadow reports");
        assertThat(run.line("shadow reports")).contains("reports");
        assertThat(run.line("search/1")).startsWith("PROVEN");
    }

    @Test
    void exemptionIgnored_failsExemptCheck() throws Exception {
        Run run = drift(policyFile("ietf", "3/minute", "[api_key, ip]", "[\"/api/search\", \"/api/search/**\"]",
                ITEMS, "shadow", ""));
        assertThat(run.exit).isEqualTo(1);
        assertThat(run.out).containsPattern("FAILED\\s+exempt api_keys\\[0\\] on search\\s.*\"search/1\"");
        assertThat(run.line("search/1")).startsWith("PROVEN");
    }

    @Test
    void wrongRetryAfter_differentPeriod_failsSearch() throws Exception {
        Run run = drift(policyFile("ietf", "3/hour", "[api_key, ip]", "[\"/api/search\", \"/api/search/**\"]",
                ITEMS, "shadow", EXEMPT));
        assertFails(run, "search/1");
        assertThat(run.line("search/1")).contains("Retry-After: expected").contains("got 1200");
    }

    @Test
    void pathNotMatched_failsSearch() throws Exception {
        Run run = drift(policyFile("ietf", "3/minute", "[api_key, ip]", "[\"/api/find\"]",
                ITEMS, "shadow", EXEMPT));
        assertFails(run, "search/1");
        assertThat(run.line("items")).startsWith("PROVEN");
    }

    @Test
    void dryRun_printsThePlan_andSendsNothing() throws Exception {
        try (CountingRelay listener = new CountingRelay(null)) {
            Run run = verify("-c", verifyFile.toString(), "--target", listener.uri().toString(), "--via-trusted-proxy",
                    "--dry-run");
            assertThat(run.exit).as(run.err).isZero();
            assertThat(run.out).contains("search/1").contains("must admit 3 then refuse with 429 naming search/1")
                    .containsPattern("at most \\d+ requests");
            assertThat(listener.count()).isZero();
        }
    }

    @Test
    synchronized void requestCount_staysWithinTheDocumentedBound_andJUnitValidates() throws Exception {
        deploy(faithful());
        Run plan = verify("-c", verifyFile.toString(), "--target", serve.uri("").toString(), "--via-trusted-proxy",
                "--dry-run");
        Matcher m = Pattern.compile("at most (\\d+) requests").matcher(plan.out);
        assertThat(m.find()).isTrue();
        int bound = Integer.parseInt(m.group(1));
        // capacity + 2 per limit check: search/1 3+2, items 3+2, reports 2+2, default 4+2,
        // exempt key on the tightest route 3+2; one request for the blocked range.
        assertThat(bound).isEqualTo(5 + 5 + 4 + 6 + 5 + 1);
        Path junit = dir.resolve("verify.xml");
        try (CountingRelay relay = new CountingRelay(serve.uri("/"))) {
            Run run = verify("-c", verifyFile.toString(), "--target", relay.uri().toString(), "--via-trusted-proxy",
                    "--junit", junit.toString());
            assertThat(run.exit).as(run.out).isZero();
            assertThat(relay.count()).isPositive().isLessThanOrEqualTo(bound);
            assertThat(run.out).contains(relay.count() + " requests sent (bound " + bound + ")");
        }
        var schema = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI)
                .newSchema(new StreamSource(VerifyEndToEndTest.class.getResourceAsStream("/verify/junit-report.xsd")));
        schema.newValidator().validate(new StreamSource(junit.toFile()));
        String xml = Files.readString(junit, StandardCharsets.UTF_8);
        assertThat(xml).contains("name=\"search/1\"").contains("<skipped message=\"not provable:");
    }

    @Test
    void scenarios_reportWhatReachedTheUpstream() throws Exception {
        Run run;
        synchronized (VerifyEndToEndTest.class) {
            deploy(faithful());
            run = verify("-c", verifyFile.toString(), "--target", serve.uri("").toString(), "--via-trusted-proxy",
                    "--scenarios", "--allow-unsafe-methods", "--scenario-requests", "30");
        }
        assertThat(run.exit).as(run.out + run.err).isZero();
        assertThat(run.out)
                .containsPattern("OK\\s+flood: 3 of 30 requests from one identity reached GET /api/search")
                .contains("stuffing login-user (many addresses, one username): 5 of 30 attempts reached POST /auth/login"
                        + " — the per-username limit allows 5")
                .contains("stuffing login-user (one address, many usernames): 5 of 30 attempts reached POST /auth/login")
                .containsPattern("OK\\s+retry storm \\(ignores Retry-After\\): 3 of 30 attempts")
                .containsPattern("OK\\s+partner burst: 3 of 3 requests of one burst reached GET /api/items");
        Matcher m = Pattern.compile("(\\d+) requests sent \\(bound (\\d+)\\)").matcher(run.out);
        assertThat(m.find()).isTrue();
        assertThat(Integer.parseInt(m.group(1))).isLessThanOrEqualTo(Integer.parseInt(m.group(2)));
    }

    @Test
    void badFile_exit2_andFailureAsProcess_exit1() throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "version: 1\npolicies: nope\n");
        Run run = verify("-c", bad.toString(), "--target", serve.uri("").toString());
        assertThat(run.exit).isEqualTo(2);
        assertThat(run.err).contains("bad.yaml:");
        synchronized (VerifyEndToEndTest.class) {
            deploy(policyFile("ietf", "6/minute", "[api_key, ip]", "[\"/api/search\", \"/api/search/**\"]",
                    ITEMS, "shadow", EXEMPT));
            try {
                SluiceProcess.Result r = SluiceProcess.run(dir, java.util.Map.of(), "verify", "-c", verifyFile.toString(),
                        "--target", serve.uri("").toString(), "--via-trusted-proxy", "--only", "search");
                assertThat(r.exitCode()).as(r.output()).isEqualTo(1);
                assertThat(r.stdout()).containsPattern("FAILED\\s+search/1");
            } finally {
                deploy(faithful());
            }
        }
    }
}
