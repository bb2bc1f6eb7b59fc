package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.Nginx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 16, point 7: a request-smuggling corpus (CL.TE, TE.CL, TE.TE obfuscations, bare LF,
 * obs-fold, duplicate hosts, absolute-form targets, overlong chunk sizes, …) sent raw to Sluice in
 * front of a real gunicorn + Flask upstream and a real nginx upstream.
 *
 * <p>Every entry hides a second request, {@code GET /smuggled}, where a parser that frames the body
 * differently from Sluice would read it as a request of its own. Whatever Sluice answers, three
 * things must hold — together they say "zero desyncs":
 * <ol>
 *   <li>the upstream sees no more requests than Sluice admitted (outcome {@code allowed} under the
 *       catch-all policy {@code api}), and at least every exchange Sluice completed
 *       ({@code sluice_upstream_seconds}); an admitted request whose chunked body turns malformed
 *       reached the upstream as a head whose connection Sluice then reset, so it is admitted and
 *       seen but never completed;</li>
 *   <li>the upstream sees {@code /smuggled} at most as often as Sluice decided a request for it
 *       (under the policy {@code smuggled}): nothing reaches the app undecided;</li>
 *   <li>a plain request on a fresh connection right after it is answered by the upstream for its
 *       own path (the pooled upstream connection was not left holding a prefix).</li>
 * </ol>
 */
class SmugglingCorpusEndToEndTest {

    private static final String SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
    private static final String POLICIES = """
            policies:
              - name: smuggled
                match: { paths: ["/smuggled", "/smuggled/**"] }
                by: ip
                limits: ["100000/minute"]
              - name: api
                match: { paths: ["/**"] }
                by: ip
                limits: ["100000/minute"]
            """;

    private static FlaskApp flask;
    private static Nginx nginx;
    private static GatewayUnderTest viaFlask;
    private static GatewayUnderTest viaNginx;

    /** One corpus entry: what it tries, and its bytes. */
    record Entry(String name, String bytes) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Entry> corpus() {
        String chunkedSmuggled = Integer.toHexString(SMUGGLED.length()) + "\r\n" + SMUGGLED + "\r\n0\r\n\r\n";
        String clTeBody = "0\r\n\r\n" + SMUGGLED;
        List<Entry> corpus = new ArrayList<>();
        // CL.TE and TE.CL: both framings present, in both orders.
        corpus.add(new Entry("CL.TE", post("Content-Length: " + clTeBody.length() + "\r\nTransfer-Encoding: chunked\r\n", clTeBody)));
        corpus.add(new Entry("TE.CL", post("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", chunkedSmuggled)));
        // TE.TE: a Transfer-Encoding one parser may read as chunked and another may not.
        String[] obfuscations = {
            "Transfer-Encoding: xchunked",
            "Transfer-Encoding : chunked",
            "Transfer-Encoding:\tchunked",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: x",
            "Transfer-Encoding: x\r\nTransfer-Encoding: chunked",
            "Transfer-Encoding: chunked, identity",
            "Transfer-Encoding: identity, chunked",
            "Transfer-Encoding: \"chunked\"",
            "Transfer-Encoding: CHUNKED",
            "Transfer-encoding: chunked",
            "X-Padding: a\r\n Transfer-Encoding: chunked",
            "Transfer-Encoding\r\n : chunked",
            "Transfer-Encoding: chunked\u000b",
            "Transfer-Encoding: chunked\r",
        };
        for (String te : obfuscations) {
            corpus.add(new Entry("TE.TE " + te.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t").replace("\u000b", "\\v"),
                    post("Content-Length: " + clTeBody.length() + "\r\n" + te + "\r\n", clTeBody)));
            corpus.add(new Entry("TE only, " + te.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t").replace("\u000b", "\\v"),
                    post(te + "\r\n", chunkedSmuggled)));
        }
        // Line endings and folding.
        corpus.add(new Entry("bare LF head", "GET /api/search HTTP/1.1\nHost: a\n\n"));
        corpus.add(new Entry("bare LF hides Content-Length",
                "POST /api/search HTTP/1.1\r\nHost: a\r\nX: y\nContent-Length: " + SMUGGLED.length() + "\r\n\r\n" + SMUGGLED));
        corpus.add(new Entry("bare CR in a value", "GET /api/search HTTP/1.1\r\nHost: a\r\nX: a\rContent-Length: 5\r\n\r\n" + SMUGGLED));
        corpus.add(new Entry("obs-fold", "GET /api/search HTTP/1.1\r\nHost: a\r\nX-Foo: bar\r\n baz\r\n\r\n"));
        corpus.add(new Entry("obs-fold continues Content-Length",
                "POST /api/search HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n " + SMUGGLED.length() + "\r\n\r\n" + SMUGGLED));
        corpus.add(new Entry("NUL in a value", "GET /api/search HTTP/1.1\r\nHost: a\r\nX: a\u0000b\r\n\r\n"));
        // Hosts and targets.
        corpus.add(new Entry("duplicate Host", "GET /api/search HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
        corpus.add(new Entry("absolute-form target", "GET http://evil.example/smuggled HTTP/1.1\r\nHost: a\r\n\r\n"));
        corpus.add(new Entry("absolute-form https target", "GET https://a/smuggled/x HTTP/1.1\r\nHost: a\r\n\r\n"));
        corpus.add(new Entry("absolute-form with userinfo", "GET http://a@evil.example/smuggled HTTP/1.1\r\nHost: a\r\n\r\n"));
        corpus.add(new Entry("asterisk-form GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n"));
        corpus.add(new Entry("tab-separated request line", "GET\t/smuggled\tHTTP/1.1\r\nHost: a\r\n\r\n"));
        corpus.add(new Entry("two spaces in the request line", "GET  /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"));
        // Lengths.
        corpus.add(new Entry("overlong chunk size", post("Transfer-Encoding: chunked\r\n", "FFFFFFFFFFFFFFFFF1\r\n" + SMUGGLED + "\r\n0\r\n\r\n")));
        corpus.add(new Entry("chunk size with 40 leading zeros",
                post("Transfer-Encoding: chunked\r\n", "0".repeat(40) + chunkedSmuggled)));
        corpus.add(new Entry("negative chunk size", post("Transfer-Encoding: chunked\r\n", "-1\r\n" + SMUGGLED + "\r\n0\r\n\r\n")));
        corpus.add(new Entry("chunk size 0x prefix", post("Transfer-Encoding: chunked\r\n", "0x" + chunkedSmuggled)));
        corpus.add(new Entry("chunk extension with a quoted CRLF",
                post("Transfer-Encoding: chunked\r\n", "1;a=\"\r\n" + SMUGGLED + "\"\r\nx\r\n0\r\n\r\n")));
        corpus.add(new Entry("Content-Length in a chunked trailer",
                post("Transfer-Encoding: chunked\r\n", "0\r\nContent-Length: " + SMUGGLED.length() + "\r\n\r\n" + SMUGGLED)));
        corpus.add(new Entry("Content-Length +n", post("Content-Length: +" + SMUGGLED.length() + "\r\n", SMUGGLED)));
        corpus.add(new Entry("Content-Length list", post("Content-Length: 0, " + SMUGGLED.length() + "\r\n", SMUGGLED)));
        corpus.add(new Entry("Content-Length hex", post("Content-Length: 0x24\r\n", SMUGGLED)));
        corpus.add(new Entry("Content-Length overflow", post("Content-Length: 18446744073709551616\r\n", SMUGGLED)));
        corpus.add(new Entry("two Content-Length, 0 then n", post("Content-Length: 0\r\nContent-Length: " + SMUGGLED.length() + "\r\n", SMUGGLED)));
        corpus.add(new Entry("Content-Length with space before colon", post("Content-Length : 0\r\n", SMUGGLED)));
        corpus.add(new Entry("HTTP/1.0 chunked",
                "POST /api/search HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: " + clTeBody.length() + "\r\n\r\n" + clTeBody));
        corpus.add(new Entry("GET with a body, then a pipelined request",
                "GET /api/search HTTP/1.1\r\nHost: a\r\nContent-Length: " + SMUGGLED.length() + "\r\n\r\n" + SMUGGLED + SMUGGLED));
        corpus.add(new Entry("two pipelined requests", "GET /api/search HTTP/1.1\r\nHost: a\r\n\r\n" + SMUGGLED));
        corpus.add(new Entry("Expect 100-continue with the body sent at once",
                "POST /api/search HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: " + SMUGGLED.length() + "\r\n\r\n" + SMUGGLED));
        corpus.add(new Entry("h2c upgrade", "GET /api/search HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n" + SMUGGLED));
        return corpus;
    }

    private static String post(String framing, String body) {
        return "POST /api/search HTTP/1.1\r\nHost: a\r\n" + framing + "\r\n" + body;
    }

    static Stream<Arguments> cases() {
        return Stream.of("gunicorn", "nginx").flatMap(upstream -> corpus().stream().map(entry -> Arguments.of(upstream, entry)));
    }

    @BeforeAll
    static void start() {
        flask = FlaskApp.start();
        nginx = Nginx.start("""
                location / {
                    return 200 "ok\\n";
                }
                """);
        viaFlask = GatewayUnderTest.start(flask.uri(), "", POLICIES);
        viaNginx = GatewayUnderTest.start(nginx.uri(), "", POLICIES);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {viaFlask, viaNginx, flask, nginx}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // keep closing the others
            }
        }
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void corpusEntry_upstreamSeesExactlyTheRequestsSluiceDecided(String upstream, Entry entry) throws Exception {
        GatewayUnderTest gateway = upstream.equals("gunicorn") ? viaFlask : viaNginx;
        Seen before = seen(upstream, gateway);

        String answer = exchange(gateway.address(), entry.bytes().getBytes(StandardCharsets.ISO_8859_1));
        Seen after = settled(upstream, gateway, before);

        assertThat(after.upstreamRequests - before.upstreamRequests)
                .as("requests the upstream saw vs requests Sluice admitted; Sluice answered:\n%s", answer)
                .isLessThanOrEqualTo(after.admitted - before.admitted)
                .as("requests the upstream saw vs exchanges Sluice completed; Sluice answered:\n%s", answer)
                .isGreaterThanOrEqualTo(after.forwarded - before.forwarded);
        assertThat(after.upstreamSmuggled - before.upstreamSmuggled)
                .as("/smuggled at the upstream vs requests for it Sluice decided; Sluice answered:\n%s", answer)
                .isLessThanOrEqualTo(after.decidedSmuggled - before.decidedSmuggled);

        String probe = exchange(gateway.address(), "GET /probe HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        Seen afterProbe = settled(upstream, gateway, after);
        assertThat(probe).as("a plain request after the entry").startsWith(upstream.equals("gunicorn") ? "HTTP/1.1 404" : "HTTP/1.1 200");
        assertThat(afterProbe.upstreamRequests - after.upstreamRequests).as("the probe reached the upstream once").isEqualTo(1);
        assertThat(afterProbe.upstreamProbes - after.upstreamProbes).as("as /probe, with no prefix left over").isEqualTo(1);
    }

    /** What the upstream and Sluice have counted so far. */
    record Seen(long upstreamRequests, long upstreamSmuggled, long upstreamProbes, long forwarded, long admitted,
            long decidedSmuggled) {
    }

    private static Seen seen(String upstream, GatewayUnderTest gateway) {
        Metrics metrics = gateway.metrics();
        long forwarded = (long) metrics.sum("sluice_upstream_seconds_count", Map.of());
        long admitted = metrics.requests("api", "allowed");
        long decided = (long) metrics.sum("sluice_requests_total", Map.of("policy", "smuggled"));
        if (upstream.equals("gunicorn")) {
            FlaskApp.Stats stats = flask.stats();
            long smuggled = stats.hits().entrySet().stream().filter(e -> e.getKey().startsWith("/smuggled"))
                    .mapToLong(Map.Entry::getValue).sum();
            return new Seen(stats.total(), smuggled, stats.hits("/probe"), forwarded, admitted, decided);
        }
        List<String> lines = nginxAccessLog();
        long smuggled = lines.stream().filter(line -> REQUEST_PATH.matcher(line).find()
                && pathOf(line).startsWith("/smuggled")).count();
        long probes = lines.stream().filter(line -> pathOf(line).equals("/probe")).count();
        return new Seen(lines.size(), smuggled, probes, forwarded, admitted, decided);
    }

    /**
     * Counts once nothing changes for 100 ms and the upstream has seen at least what Sluice
     * completed (the upstream logs a request as it answers it, Sluice records the exchange as the
     * response ends), or after 5 s, whatever they say then.
     */
    private static Seen settled(String upstream, GatewayUnderTest gateway, Seen before) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        Seen now = seen(upstream, gateway);
        while (System.nanoTime() < deadline) {
            Thread.sleep(100);
            Seen next = seen(upstream, gateway);
            if (next.equals(now) && next.upstreamRequests - before.upstreamRequests >= next.forwarded - before.forwarded) {
                return next;
            }
            now = next;
        }
        return now;
    }

    private static final Pattern REQUEST_PATH = Pattern.compile("\"[A-Z]+ (\\S+) HTTP/1\\.[01]\"");

    private static String pathOf(String accessLogLine) {
        Matcher matcher = REQUEST_PATH.matcher(accessLogLine);
        return matcher.find() ? matcher.group(1) : "";
    }

    private static List<String> nginxAccessLog() {
        Path log = nginx.directory().resolve("access.log");
        try {
            return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.ISO_8859_1) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends the bytes on a fresh connection and reads what comes back until Sluice closes the
     * connection or stays silent for 700 ms (5 s for the first byte).
     */
    private static String exchange(InetSocketAddress address, byte[] request) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try (Socket socket = new Socket()) {
            socket.connect(address, 2_000);
            OutputStream out = socket.getOutputStream();
            out.write(request);
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            socket.setSoTimeout(5_000);
            while (true) {
                int read;
                try {
                    read = in.read(buffer);
                } catch (SocketTimeoutException e) {
                    break;
                } catch (IOException e) {
                    break; // reset by Sluice: what arrived before is the answer
                }
                if (read < 0) {
                    break;
                }
                received.write(buffer, 0, read);
                socket.setSoTimeout(700);
            }
        }
        return received.toString(StandardCharsets.ISO_8859_1);
    }
}
