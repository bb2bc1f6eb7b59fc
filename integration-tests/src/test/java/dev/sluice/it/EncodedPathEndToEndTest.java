package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 9, point 1: no spelling of a path reaches a Flask route outside the policies of that
 * route's plain form. Each row is one spelling of {@code POST /auth/login} or {@code GET
 * /api/search}, sent raw through the real gateway to the example app under gunicorn, with what
 * the upstream does with it ({@code PATH_INFO} as counted by the app, and its status: 401 = the
 * login view ran, 200 = the search view ran, 308 = Werkzeug's merge-slashes redirect, 404 = no
 * route) and whether the plain route's policy applies.
 *
 * <p>Per row, from a client address of its own: the spelling once (reaches the app), the plain path
 * once (reaches the app), the spelling again — refused 429 by the plain route's policy when the
 * policy applies, since the spelling and the plain path share its bucket ({@code 2/minute}).
 */
class EncodedPathEndToEndTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] BAD_LOGIN = "{\"username\":\"alice\",\"password\":\"wrong\"}".getBytes(StandardCharsets.UTF_8);
    private static final String POLICIES = """
            policies:
              - name: login
                match: { methods: [POST], paths: ["/auth/login"] }
                by: ip
                limits: ["2/minute"]
              - name: api
                match: { paths: ["/api/**"] }
                by: ip
                limits: ["2/minute"]
            """;

    /**
     * One spelling.
     *
     * @param route       the plain route it spells: {@code login} (POST /auth/login) or {@code api} (GET /api/search)
     * @param flaskStatus what the app answers (the upstream's view)
     * @param pathInfo    the {@code PATH_INFO} gunicorn hands the app
     * @param limited     whether the plain route's policy applies (Sluice may match more than the app
     *                    routes, never less: a 401 or 200 from the view always means limited)
     */
    record Row(String target, String route, int flaskStatus, String pathInfo, boolean limited) {
        String method() {
            return route.equals("login") ? "POST" : "GET";
        }

        String plain() {
            return route.equals("login") ? "/auth/login" : "/api/search";
        }
    }

    static final List<Row> ROWS = List.of(
            new Row("/auth/login", "login", 401, "/auth/login", true),
            new Row("/auth%2Flogin", "login", 401, "/auth/login", true),
            new Row("/auth%2flogin", "login", 401, "/auth/login", true),
            new Row("/%61uth/login", "login", 401, "/auth/login", true),
            new Row("/auth/%6Cogin", "login", 401, "/auth/login", true),
            new Row("/%61%75%74%68%2f%6c%6f%67%69%6e", "login", 401, "/auth/login", true),
            new Row("/auth/login?next=%2F", "login", 401, "/auth/login", true),
            new Row("http://example.test/auth%2Flogin", "login", 401, "/auth/login", true),
            new Row("//auth//login", "login", 308, "//auth//login", true),
            new Row("/auth%2F%2Flogin", "login", 308, "/auth//login", true),
            new Row("/auth/./login", "login", 404, "/auth/./login", true),
            new Row("/x/../auth/login", "login", 404, "/x/../auth/login", true),
            new Row("/x/%2e%2e/auth/login", "login", 404, "/x/../auth/login", true),
            new Row("/x%2F..%2Fauth%2Flogin", "login", 404, "/x/../auth/login", true),
            new Row("/api%2F..%2Fauth/login", "login", 404, "/api/../auth/login", true),
            new Row("/auth/login%2F", "login", 404, "/auth/login/", true),
            new Row("/auth%252Flogin", "login", 404, "/auth%2Flogin", false),
            new Row("/auth%25252Flogin", "login", 404, "/auth%252Flogin", false),
            new Row("/auth\\login", "login", 404, "/auth\\login", false),
            new Row("/auth%5Clogin", "login", 404, "/auth\\login", false),
            new Row("/AUTH/login", "login", 404, "/AUTH/login", false),
            new Row("/api%2Fsearch?q=dam", "api", 200, "/api/search", true),
            new Row("/api%2fsearch", "api", 200, "/api/search", true),
            new Row("/%61pi%2F%73earch", "api", 200, "/api/search", true),
            new Row("/api/search%2F", "api", 404, "/api/search/", true),
            new Row("/api%252Fsearch", "api", 404, "/api%2Fsearch", false));

    private static FlaskApp app;

    @BeforeAll
    static void startApp() {
        app = FlaskApp.start();
    }

    @AfterAll
    static void stopApp() {
        if (app != null) {
            app.close();
        }
    }

    @Test
    void decode_everySpelling_getsThePolicyOfThePathFlaskRoutes() throws Exception {
        assertThat(ROWS).hasSizeGreaterThanOrEqualTo(20);
        List<String> failures = new ArrayList<>();
        try (GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "", POLICIES)) {
            for (int i = 0; i < ROWS.size(); i++) {
                Row row = ROWS.get(i);
                InetAddress client = InetAddress.getByName("127.0.1." + (i + 1));
                app.reset();

                RawHttp.Response first = send(gateway, client, row.method(), row.target());
                long hitsAfterFirst = app.stats().hits(row.pathInfo());
                RawHttp.Response plain = send(gateway, client, row.method(), row.plain());
                RawHttp.Response again = send(gateway, client, row.method(), row.target());
                FlaskApp.Stats stats = app.stats();

                String name = "row " + i + " " + row.method() + " " + row.target();
                check(failures, name + ": the app's answer", first.status(), row.flaskStatus());
                check(failures, name + ": PATH_INFO " + row.pathInfo() + " seen once", hitsAfterFirst, 1L);
                check(failures, name + ": the plain path passes", plain.status() == 429, false);
                if (row.limited()) {
                    check(failures, name + ": limited like the plain path", again.status(), 429);
                    check(failures, name + ": by the plain route's policy", policyOf(again), row.route());
                    check(failures, name + ": the refused request never reached the app", stats.total(), 2L);
                } else {
                    check(failures, name + ": not the plain route, not its policy", again.status(), row.flaskStatus());
                    check(failures, name + ": both spellings reached the app", stats.total(), 3L);
                }
                if (row.flaskStatus() == 401 || row.flaskStatus() == 200) {
                    check(failures, name + ": the view ran, so its policy must apply", row.limited(), true);
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void reject_everySpellingWithAnEncodedSlash_is400AndNeverReachesTheApp() throws Exception {
        try (GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "  encoded_slashes: reject\n", POLICIES)) {
            int i = 0;
            for (Row row : ROWS) {
                InetAddress client = InetAddress.getByName("127.0.2." + (++i));
                String path = row.target().replaceFirst("\\?.*", "");
                boolean slash = path.toLowerCase().contains("%2f");
                app.reset();

                RawHttp.Response response = send(gateway, client, row.method(), row.target());

                if (slash) {
                    assertThat(response.status()).as(row.target()).isEqualTo(400);
                    assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
                    assertThat(response.bodyText()).contains("(gateway.encoded_slashes: reject)");
                    assertThat(app.stats().total()).as(row.target()).isZero();
                } else {
                    assertThat(response.status()).as(row.target()).isEqualTo(row.flaskStatus());
                    assertThat(app.stats().hits(row.pathInfo())).as(row.target()).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void keep_matchesEncodedSlashAsALiteral() throws Exception {
        String policies = """
                policies:
                  - name: file
                    match: { paths: ["/files/a%2Fb"] }
                    by: ip
                    limits: ["1/minute"]
                  - name: login
                    match: { methods: [POST], paths: ["/auth/login"] }
                    by: ip
                    limits: ["1/minute"]
                """;
        try (GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), "  encoded_slashes: keep\n", policies)) {
            InetAddress client = InetAddress.getByName("127.0.3.1");
            app.reset();

            assertThat(send(gateway, client, "GET", "/files/a%2Fb").status()).isEqualTo(404);
            RawHttp.Response lower = send(gateway, client, "GET", "/files/a%2fb");
            assertThat(lower.status()).as("the same literal segment").isEqualTo(429);
            assertThat(policyOf(lower)).isEqualTo("file");
            assertThat(send(gateway, client, "GET", "/files/a/b").status()).as("another path under keep").isEqualTo(404);

            // Why keep is wrong in front of a WSGI app (docs/security.md): gunicorn decodes %2F, so
            // the login view runs for a spelling the login policy does not match under keep.
            InetAddress other = InetAddress.getByName("127.0.3.2");
            assertThat(send(gateway, other, "POST", "/auth/login").status()).isEqualTo(401);
            assertThat(send(gateway, other, "POST", "/auth%2Flogin").status()).isEqualTo(401);
            assertThat(app.stats().hits("/auth/login")).isEqualTo(2);
        }
    }

    private static RawHttp.Response send(GatewayUnderTest gateway, InetAddress client, String method, String target) {
        if (method.equals("POST")) {
            return RawHttp.request(gateway.address(), client, "POST", target,
                    Map.of("Content-Type", "application/json"), BAD_LOGIN);
        }
        return RawHttp.request(gateway.address(), client, method, target, Map.of(), null);
    }

    private static String policyOf(RawHttp.Response response) throws Exception {
        JsonNode body = JSON.readTree(response.body());
        return body.path("policy").asText(null);
    }

    private static void check(List<String> failures, String what, Object actual, Object expected) {
        if (!java.util.Objects.equals(actual, expected)) {
            failures.add(what + ": expected " + expected + ", got " + actual);
        }
    }
}
