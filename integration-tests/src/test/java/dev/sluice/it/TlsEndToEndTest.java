package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.ManagedProcess;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS both ways (SPEC §12) against real peers: certificates made by the {@code openssl} CLI at
 * test time, Python's {@code http.server} behind TLS as the {@code https://} upstream, and
 * {@code sluice serve} as users run it, reached by the JDK client and by {@code openssl s_client}.
 */
class TlsEndToEndTest {
    private static final String ECHO = """
            import http.server, json, ssl, sys
            class H(http.server.BaseHTTPRequestHandler):
                protocol_version = 'HTTP/1.1'
                def do_GET(self):
                    body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
                    self.send_response(200)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(body)))
                    self.send_header('X-Upstream-Port', sys.argv[1])
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args):
                    pass
            server = http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(sys.argv[2], sys.argv[3])
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
            server.serve_forever()
            """;

    @TempDir
    static Path dir;

    private static final List<ManagedProcess> upstreams = new ArrayList<>();
    /** Upstream whose certificate names 127.0.0.1 and localhost, signed by the test CA. */
    private static int goodUpstream;
    /** Upstream whose certificate (signed by the test CA) names only wrong.example. */
    private static int wrongNameUpstream;
    /** A second upstream like {@link #goodUpstream}, for the lists of several upstreams. */
    private static int secondGoodUpstream;

    @BeforeAll
    static void certificatesAndUpstreams() throws Exception {
        Files.writeString(dir.resolve("echo.py"), ECHO);
        ca("ca");
        ca("other-ca");
        leaf("server", "ca", "IP:127.0.0.1,DNS:localhost", 1001);
        leaf("server2", "ca", "IP:127.0.0.1,DNS:localhost", 2002);
        leaf("wrongname", "ca", "DNS:wrong.example", 3003);
        goodUpstream = upstream("server");
        wrongNameUpstream = upstream("wrongname");
        secondGoodUpstream = upstream("server2");
    }

    @AfterAll
    static void stopUpstreams() {
        upstreams.forEach(ManagedProcess::close);
    }

    @Test
    void httpsUpstream_verifiedWithCaFile_andTlsListener_forwardsWithForwardedProtoHttps() throws Exception {
        Path listenerCert = copy("server", "listener");
        int[] ports = ServeProcess.ports();
        Path file = policy("good.yaml", ports, """
                  tls: { cert_file: listener.crt, key_file: listener.key }
                  upstream: https://127.0.0.1:%d
                  upstream_tls: { ca_file: ca.crt }
                """.formatted(goodUpstream));
        try (ServeProcess sluice = ServeProcess.start("sluice-tls", file, ports[0], ports[1])) {
            HttpResponse<String> response = httpsGet(ports[0], "/headers");
            assertThat(response.statusCode()).as(sluice.log()).isEqualTo(200);
            assertThat(response.body()).contains("\"x-forwarded-proto\": \"https\"");
            assertThat(sluice.log()).contains("verified against the CA file");

            // SIGHUP swaps the certificate new connections get.
            assertThat(servedSerial(ports[0])).isEqualTo(BigInteger.valueOf(1001));
            Files.copy(dir.resolve("server2.crt"), listenerCert, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(dir.resolve("server2.key"), dir.resolve("listener.key"), StandardCopyOption.REPLACE_EXISTING);
            sluice.process.signal("HUP");
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> servedSerial(ports[0]).equals(BigInteger.valueOf(2002)));
            assertThat(sluice.log()).contains("TLS certificate reloaded");
            assertThat(httpsGet(ports[0], "/headers").statusCode()).isEqualTo(200);

            // TLS 1.1 is refused in the handshake; TLS 1.2 is accepted (the control).
            assertThat(sClient(ports[0], "-tls1_2")).contains("Protocol  : TLSv1.2");
            String old = sClient(ports[0], "-tls1_1");
            // The listener answers a 1.1 hello with a protocol_version alert and never shows a certificate.
            assertThat(old).contains("alert protocol version").contains("no peer certificate available")
                    .doesNotContain("BEGIN CERTIFICATE");
        }
    }

    @Test
    void httpsUpstream_signedByAnotherCa_is502WithTheReasonLogged() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = policy("wrong-ca.yaml", ports, """
                  upstream: https://127.0.0.1:%d
                  upstream_tls: { ca_file: other-ca.crt }
                """.formatted(goodUpstream));
        try (ServeProcess sluice = ServeProcess.start("sluice-wrong-ca", file, ports[0], ports[1])) {
            HttpResponse<String> response = sluice.get("/headers");
            assertThat(response.statusCode()).isEqualTo(502);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(response.body()).contains("TLS handshake failed");
        }
    }

    @Test
    void httpsUpstream_withAnotherHostName_is502() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = policy("wrong-name.yaml", ports, """
                  upstream: https://127.0.0.1:%d
                  upstream_tls: { ca_file: ca.crt }
                """.formatted(wrongNameUpstream));
        try (ServeProcess sluice = ServeProcess.start("sluice-wrong-name", file, ports[0], ports[1])) {
            HttpResponse<String> response = sluice.get("/headers");
            assertThat(response.statusCode()).isEqualTo(502);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(response.body()).contains("TLS handshake failed").contains("No subject alternative");
        }
    }

    @Test
    void httpsUpstream_insecureSkipVerify_acceptsAnyCertificate_andSaysSoAtStart() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = policy("insecure.yaml", ports, """
                  upstream: https://127.0.0.1:%d
                  upstream_tls: { insecure_skip_verify: true }
                """.formatted(wrongNameUpstream));
        try (ServeProcess sluice = ServeProcess.start("sluice-insecure", file, ports[0], ports[1])) {
            HttpResponse<String> response = sluice.get("/headers");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).contains("\"x-forwarded-proto\": \"http\"");
            assertThat(sluice.log()).contains("insecure_skip_verify is true").contains("NOT verified");
        }
    }

    @Test
    void httpsUpstreams_inAListOfTwo_bothAnswerRoundRobin() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = policy("two-https.yaml", ports, """
                  upstream: [https://127.0.0.1:%d, https://127.0.0.1:%d]
                  upstream_tls: { ca_file: ca.crt }
                """.formatted(goodUpstream, secondGoodUpstream));
        try (ServeProcess sluice = ServeProcess.start("sluice-two-https", file, ports[0], ports[1])) {
            java.util.Set<String> answered = new java.util.HashSet<>();
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> response = sluice.get("/headers");
                assertThat(response.statusCode()).as(sluice.log()).isEqualTo(200);
                answered.add(response.headers().firstValue("X-Upstream-Port").orElseThrow());
            }
            assertThat(answered).containsExactlyInAnyOrder(
                    String.valueOf(goodUpstream), String.valueOf(secondGoodUpstream));
        }
    }

    @Test
    void httpsUpstreams_oneFailingItsHostCheck_requestsMoveOnToTheOther() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = policy("one-bad-https.yaml", ports, """
                  upstream: [https://127.0.0.1:%d, https://127.0.0.1:%d]
                  upstream_tls: { ca_file: ca.crt }
                """.formatted(wrongNameUpstream, goodUpstream));
        try (ServeProcess sluice = ServeProcess.start("sluice-one-bad-https", file, ports[0], ports[1])) {
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> response = sluice.get("/headers");
                assertThat(response.statusCode()).as(sluice.log()).isEqualTo(200);
                assertThat(response.headers().firstValue("X-Upstream-Port")).hasValue(String.valueOf(goodUpstream));
            }
        }
    }

    @Test
    void proxyProtocolHeader_precedesTheTlsHandshake_andCarriesTheClientAddress() throws Exception {
        copy("server", "listener-pp");
        int[] ports = ServeProcess.ports();
        Path file = policy("proxy-protocol-tls.yaml", ports, """
                  tls: { cert_file: listener-pp.crt, key_file: listener-pp.key }
                  proxy_protocol: true
                  upstream: https://127.0.0.1:%d
                  upstream_tls: { ca_file: ca.crt }
                clients: { trusted_proxies: [127.0.0.1/32] }
                """.formatted(goodUpstream));
        try (ServeProcess sluice = ServeProcess.start("sluice-pp-tls", file, ports[0], ports[1]);
             java.net.Socket raw = new java.net.Socket("127.0.0.1", ports[0])) {
            raw.setSoTimeout(30_000);
            // What HAProxy's send-proxy does in front of a TLS backend: the header in clear, then TLS.
            raw.getOutputStream().write("PROXY TCP4 203.0.113.7 127.0.0.1 4000 443\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            raw.getOutputStream().flush();
            try (SSLSocket tls = (SSLSocket) trustingTestCa().getSocketFactory()
                    .createSocket(raw, "localhost", ports[0], true)) {
                tls.startHandshake();
                tls.getOutputStream().write("GET /headers HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                tls.getOutputStream().flush();
                String response = new String(tls.getInputStream().readAllBytes(),
                        java.nio.charset.StandardCharsets.UTF_8);
                assertThat(response).as(sluice.log()).startsWith("HTTP/1.1 200");
                assertThat(response).contains("\"x-forwarded-for\": \"203.0.113.7\"")
                        .contains("\"x-forwarded-proto\": \"https\"");
            }
        }
    }

    // ---- helpers ----

    private static Path policy(String name, int[] ports, String gatewayLines) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, """
                version: 1
                gateway:
                  listen: 127.0.0.1:%d
                  admin: 127.0.0.1:%d
                %sdefaults: { by: ip, limits: ["1000/minute"] }
                """.formatted(ports[0], ports[1], gatewayLines));
        return file;
    }

    private static Path copy(String from, String to) throws IOException {
        Files.copy(dir.resolve(from + ".key"), dir.resolve(to + ".key"), StandardCopyOption.REPLACE_EXISTING);
        return Files.copy(dir.resolve(from + ".crt"), dir.resolve(to + ".crt"), StandardCopyOption.REPLACE_EXISTING);
    }

    private static void ca(String name) throws Exception {
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", name + ".key", "-out", name + ".crt", "-subj", "/CN=Sluice test " + name);
    }

    private static void leaf(String name, String ca, String san, int serial) throws Exception {
        Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=" + san + "\n");
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + name);
        run("openssl", "x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
                "-set_serial", String.valueOf(serial), "-days", "2", "-out", name + ".crt",
                "-extfile", name + ".ext");
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + out).isZero();
        return out;
    }

    private static int upstream(String cert) {
        int port = FreePort.find();
        upstreams.add(ManagedProcess.builder("https-upstream-" + cert, List.of("/usr/bin/python3",
                        dir.resolve("echo.py").toString(), String.valueOf(port),
                        dir.resolve(cert + ".crt").toString(), dir.resolve(cert + ".key").toString()))
                .readyWhenPortOpen(new InetSocketAddress("127.0.0.1", port))
                .startupTimeout(Duration.ofSeconds(30))
                .start());
        return port;
    }

    private static SSLContext trustingTestCa() throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(dir.resolve("ca.crt"))) {
            store.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return ssl;
    }

    private static HttpResponse<String> httpsGet(int port, String path) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(trustingTestCa()).connectTimeout(Duration.ofSeconds(5)).build();
        return client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The serial number of the certificate a new connection to the listener is served. */
    private static BigInteger servedSerial(int port) throws Exception {
        try (SSLSocket socket = (SSLSocket) trustingTestCa().getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    /** {@code openssl s_client} limited to one protocol version (security level 0 so 1.1 is offered at all). */
    private static String sClient(int port, String version) throws Exception {
        Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, version,
                "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", dir.resolve("ca.crt").toString())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
